#!/usr/bin/env python3
"""CDK entry point: load and validate the config once, build the stacks, attach
the cdk-nag packs. Choose a config with `cdk synth -c config=PATH`."""

from __future__ import annotations

import gc

# A one-shot process: Python's cyclic collector would run ~400 times while aws-cdk-lib's
# modules load, for garbage the exit frees anyway (docs/benchmarks.md, synth time).
gc.disable()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import aws_cdk as cdk  # noqa: E402

from stacks.app_builder import build_app  # noqa: E402
from stacks.config import ConfigError  # noqa: E402
from stacks.models.sdk_resolution import ResolutionCache  # noqa: E402

# Keyed by the pinned metadata and SDK version, so it can never answer stale.
RESOLUTION_CACHE = Path(__file__).resolve().parent / ".cache" / "jumpstart-resolution.json"


def main() -> None:
    app = cdk.App()
    try:
        build_app(app, app.node.try_get_context("config"), resolution_cache=ResolutionCache(RESOLUTION_CACHE))
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        sys.exit(2)
    app.synth()


if __name__ == "__main__":
    main()
