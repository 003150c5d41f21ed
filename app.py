#!/usr/bin/env python3
"""CDK entry point: load and validate the config once, build the stacks, attach
the cdk-nag packs. Choose a config with `cdk synth -c config=PATH`."""

from __future__ import annotations

import sys

import aws_cdk as cdk

from stacks.app_builder import build_app
from stacks.config import ConfigError


def main() -> None:
    app = cdk.App()
    try:
        build_app(app, app.node.try_get_context("config"))
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        sys.exit(2)
    app.synth()


if __name__ == "__main__":
    main()
