"""Build every stack of a deployment into an App; shared by app.py and the tests."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk

from stacks.api_stack import ApiStack
from stacks.config import AppConfig, load_config, stack_name
from stacks.endpoints_stack import EndpointsStack
from stacks.jumpstart import ResolutionCache, ResolvedEndpoint, resolve_endpoints
from stacks.monitoring_stack import MonitoringStack
from stacks.lambda_env import validate_extra_templates
from stacks.nag import attach_packs
from stacks.network_stack import NetworkStack
from stacks.studio_stack import StudioStack


@dataclass
class Deployment:
    config: AppConfig
    resolved: list[ResolvedEndpoint]
    endpoints: EndpointsStack
    network: NetworkStack | None = None
    studio: StudioStack | None = None
    api: ApiStack | None = None
    monitoring: MonitoringStack | None = None

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [s for s in (self.network, self.endpoints, self.studio, self.api, self.monitoring)
                if s is not None]


def build_app(
    app: cdk.App,
    config_path: str | None = None,
    *,
    nag: bool = True,
    resolution_cache: ResolutionCache | None = None,
) -> Deployment:
    """Validate the config (raising ConfigError) and add the deployment's stacks to `app`."""
    config = load_config(config_path)
    resolved = resolve_endpoints(config, cache=resolution_cache)
    validate_extra_templates(config.api.extra_templates)
    env = cdk.Environment(account=config.account, region=config.region)
    network = None
    if config.network.mode != "none":
        network = NetworkStack(
            app,
            "Network",
            stack_name=stack_name(config, "network"),
            description=f"{config.project_name}: VPC for endpoints and Studio",
            config=config,
            env=env,
        )
    endpoints = EndpointsStack(
        app,
        "Endpoints",
        stack_name=stack_name(config, "endpoints"),
        description=f"{config.project_name}: JumpStart model endpoints",
        config=config,
        resolved=resolved,
        network=network.network.model_network() if network else None,
        env=env,
    )
    studio = None
    if config.studio.enabled and network:
        studio = StudioStack(
            app,
            "Studio",
            stack_name=stack_name(config, "studio"),
            description=f"{config.project_name}: SageMaker Studio domain",
            config=config,
            network=network.network,
            endpoints=list(endpoints.endpoints.values()),
            env=env,
        )
    api = None
    if config.api.enabled:
        api = ApiStack(
            app,
            "Api",
            stack_name=stack_name(config, "api"),
            description=f"{config.project_name}: API front door",
            config=config,
            resolved=resolved,
            endpoints=endpoints.endpoints,
            env=env,
        )
    monitoring = MonitoringStack(
        app,
        "Monitoring",
        stack_name=stack_name(config, "monitoring"),
        description=f"{config.project_name}: dashboard and front door alarms",
        config=config,
        endpoints=list(endpoints.endpoints.values()),
        alarm_topic=endpoints.alarm_topic,
        front_door=api.front_door if api else None,
        env=env,
    )
    for key, value in {"project": config.project_name, **config.tags}.items():
        cdk.Tags.of(app).add(key, value)
    if nag:
        attach_packs(app)
    return Deployment(
        config=config, resolved=resolved, endpoints=endpoints, network=network, studio=studio, api=api,
        monitoring=monitoring,
    )
