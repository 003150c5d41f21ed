"""Build every stack of a deployment into an App; shared by app.py and the tests."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk

from stacks.config import AppConfig, load_config, stack_name
from stacks.endpoints_stack import EndpointsStack
from stacks.jumpstart import ResolvedEndpoint, resolve_endpoints
from stacks.nag import attach_packs


@dataclass
class Deployment:
    config: AppConfig
    resolved: list[ResolvedEndpoint]
    endpoints: EndpointsStack

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [s for s in (self.endpoints,) if s is not None]


def build_app(app: cdk.App, config_path: str | None = None, *, nag: bool = True) -> Deployment:
    """Validate the config (raising ConfigError) and add the deployment's stacks to `app`."""
    config = load_config(config_path)
    resolved = resolve_endpoints(config)
    env = cdk.Environment(account=config.account, region=config.region)
    endpoints = EndpointsStack(
        app,
        "Endpoints",
        stack_name=stack_name(config, "endpoints"),
        description=f"{config.project_name}: JumpStart model endpoints",
        config=config,
        resolved=resolved,
        env=env,
    )
    for key, value in {"project": config.project_name, **config.tags}.items():
        cdk.Tags.of(app).add(key, value)
    if nag:
        attach_packs(app)
    return Deployment(config=config, resolved=resolved, endpoints=endpoints)
