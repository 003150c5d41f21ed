"""Synthesize each configuration once per test session, the way the CLI would.

`cdk synth` passes cdk.json's context (feature flags) to the app; a bare
`App()` would not, and would synthesize a different template. Each config gets
its own App because stack ids repeat across configs.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import aws_cdk as cdk

from stacks.app_builder import Deployment, build_app

REPO = Path(__file__).resolve().parent.parent
CONFIGS = {
    "default": "config/default.yaml",
    "falcon-40b-g5-12xlarge": "config/examples/falcon-40b-g5-12xlarge.yaml",
    "falcon-40b-g5-48xlarge": "config/examples/falcon-40b-g5-48xlarge.yaml",
    "stable-diffusion": "config/examples/stable-diffusion.yaml",
    "eu-west-1": "config/examples/eu-west-1.yaml",
    "studio-vpc": "config/examples/studio-vpc.yaml",
    "studio-imported-vpc": "config/examples/studio-imported-vpc.yaml",
    "sleepy": "config/examples/sleepy.yaml",
    "shared-endpoint": "config/examples/shared-endpoint.yaml",
    "ai21-marketplace": "config/examples/ai21-marketplace.yaml",
    "governed": "config/examples/governed.yaml",
    "tenants": "config/examples/tenants.yaml",
}


def cli_context() -> dict:
    return json.loads((REPO / "cdk.json").read_text())["context"]


@dataclass
class Synth:
    deployment: Deployment
    assembly: cdk.cx_api.CloudAssembly
    outdir: Path

    def template(self, stack: cdk.Stack) -> dict:
        return self.assembly.get_stack_by_name(stack.stack_name).template

    def templates(self) -> dict[str, dict]:
        """Stack id -> template, for every stack of the deployment."""
        return {s.node.id: self.template(s) for s in self.deployment.stacks}


@lru_cache(maxsize=None)
def synth(config_path: str) -> Synth:
    outdir = Path(tempfile.mkdtemp(prefix="cdk-test-"))
    app = cdk.App(context={**cli_context(), "config": config_path}, outdir=str(outdir))
    deployment = build_app(app, str(REPO / config_path))
    return Synth(deployment=deployment, assembly=app.synth(), outdir=outdir)


_ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def normalize(template: dict) -> dict:
    """Mask asset hashes so snapshots change only when the template does."""
    return json.loads(_ASSET_HASH.sub("<asset-hash>", json.dumps(template, sort_keys=True)))
