"""The default app with the four cdk-nag packs but without the Control Tower plugin,
for synth timing only: what the plugin adds is the difference to app.py."""

import gc
import sys
from pathlib import Path

gc.disable()  # as app.py does

import aws_cdk as cdk  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import RESOLUTION_CACHE  # noqa: E402
from stacks.app_builder import build_app  # noqa: E402
from stacks.models.jumpstart import ResolutionCache  # noqa: E402
from stacks.compliance.nag import attach_packs  # noqa: E402

app = cdk.App()
build_app(app, app.node.try_get_context("config"), nag=False, resolution_cache=ResolutionCache(RESOLUTION_CACHE))
attach_packs(app)
app.synth()
