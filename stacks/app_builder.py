"""Build every stack of a deployment into an App; shared by app.py and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import aws_cdk as cdk

from stacks.api_stack import ApiStack
from stacks.compliance.control_tower import acknowledge_control, attach_control_tower
from stacks.compliance.nag import attach_packs
from stacks.config import AppConfig, load_config, stack_name
from stacks.contract.lambda_env import validate_extra_templates
from stacks.endpoints_stack import EndpointsStack
from stacks.models.jumpstart import ResolvedEndpoint, resolve_endpoints
from stacks.models.sdk_resolution import ResolutionCache
from stacks.models.shared_endpoints import (
    ResolvedSharedEndpoint,
    check_models,
    resolve_shared_endpoints,
)
from stacks.monitoring_stack import MonitoringStack
from stacks.network_stack import NetworkStack
from stacks.studio_stack import StudioStack

# AWS Control Tower CT.CLOUDWATCH.PR.2: log groups keep events at least a year.
CONTROL_TOWER_MIN_RETENTION_DAYS = 365


@dataclass
class Deployment:
    config: AppConfig
    resolved: list[ResolvedEndpoint]
    endpoints: EndpointsStack
    network: NetworkStack | None = None
    studio: StudioStack | None = None
    api: ApiStack | None = None
    monitoring: MonitoringStack | None = None
    shared: list[ResolvedSharedEndpoint] = field(default_factory=list)

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
    shared = resolve_shared_endpoints(config, cache=resolution_cache)
    check_models(resolved, shared)
    validate_extra_templates(config.api.extra_templates)
    deployment = _build_stacks(app, config, resolved, shared)
    for key, value in {"project": config.project_name, **config.tags}.items():
        cdk.Tags.of(app).add(key, value)
    if config.log_retention_days < CONTROL_TOWER_MIN_RETENTION_DAYS:
        for stack in deployment.stacks:
            acknowledge_control(
                stack, "CT.CLOUDWATCH.PR.2",
                f"log_retention_days is {config.log_retention_days} in this config, chosen by its "
                f"operator below the {CONTROL_TOWER_MIN_RETENTION_DAYS}-day default to cut log storage cost.",
            )
    if nag:
        attach_packs(app)
        attach_control_tower(app)
    return deployment


def _placed(config: AppConfig, suffix: str, what: str) -> dict:
    """What every stack of the deployment shares: name, description, config, env."""
    return {"stack_name": stack_name(config, suffix), "description": f"{config.project_name}: {what}",
            "config": config, "env": cdk.Environment(account=config.account, region=config.region)}


def _build_stacks(
    app: cdk.App, config: AppConfig, resolved: list[ResolvedEndpoint], shared: list[ResolvedSharedEndpoint]
) -> Deployment:
    """The stacks, in dependency order: network, endpoints, Studio, API, monitoring."""
    network = None
    if config.network.mode != "none":
        network = NetworkStack(app, "Network", **_placed(config, "network", "VPC for endpoints and Studio"))
    # Config network.functions_in_vpc: where the app's functions attach. It reaches their
    # stacks as SSM dynamic references, which CDK cannot see: the dependency is added here.
    function_network = network.network.function_network() if network else None
    endpoints = EndpointsStack(
        app,
        "Endpoints",
        **_placed(config, "endpoints", "JumpStart model endpoints"),
        resolved=resolved,
        shared=shared,
        network=network.network.model_network() if network else None,
        function_network=function_network,
    )
    studio = None
    if config.studio.enabled and network:
        studio = StudioStack(
            app,
            "Studio",
            **_placed(config, "studio", "SageMaker Studio domain"),
            network=network.network,
            endpoints=[*endpoints.endpoints.values(), *endpoints.shared.values()],
        )
    api = None
    if config.api.enabled:
        api = ApiStack(
            app,
            "Api",
            **_placed(config, "api", "API front door"),
            resolved=resolved,
            endpoints=endpoints.endpoints,
            shared=shared,
            shared_endpoints=list(endpoints.shared.values()),
            function_network=function_network,
        )
    if function_network is not None:
        for stack in (endpoints, api):
            if stack is not None:
                stack.add_stack_dependency(network, "its functions attach to the network's subnets and security group")
    monitoring = MonitoringStack(
        app,
        "Monitoring",
        **_placed(config, "monitoring", "dashboard and front door alarms"),
        endpoints=list(endpoints.endpoints.values()),
        shared_endpoints=list(endpoints.shared.values()),
        alarm_topic=endpoints.alarm_topic,
        front_door=api.front_door if api else None,
    )
    return Deployment(
        config=config, resolved=resolved, endpoints=endpoints, network=network, studio=studio, api=api,
        monitoring=monitoring, shared=shared,
    )
