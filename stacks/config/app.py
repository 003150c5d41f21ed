"""The whole deployment (`AppConfig`) and the account-wide settings that belong to no one
stack: S3 Object Lock, the alarm address, tags."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from stacks.config.api import ApiConfig, check_tier_models
from stacks.config.base import NAME_RE, REGION_RE, StrictModel, require_unique
from stacks.config.endpoints import EndpointConfig
from stacks.config.network import NetworkConfig
from stacks.config.shared_endpoints import SharedEndpointConfig
from stacks.config.studio import StudioConfig


class ObjectLockConfig(StrictModel):
    """S3 Object Lock (AWS Control Tower CT.S3.PR.9) on the buckets that can take it: the
    data-capture, jobs and Studio buckets (`stacks.constructs.secure_bucket.SecureBucket`;
    the jobs bucket without a default retention), never the server-access-log targets: "S3
    buckets with Object Lock can't be used as destination buckets for server access logs"
    (S3 User Guide, "Configuring S3 Object Lock"). It cannot be switched off again; see
    docs/governed-accounts.md for what it costs and changes."""

    # S3 User Guide, Object Lock "Retention modes": governance-mode locks can be bypassed with
    # s3:BypassGovernanceRetention (and the x-amz-bypass-governance-retention header); a
    # compliance-mode version "can't be overwritten or deleted by any user, including the root
    # user in your AWS account".
    mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        "GOVERNANCE",
        description="GOVERNANCE: principals with s3:BypassGovernanceRetention may still delete; "
        "COMPLIANCE: no one, root included, until the retention ends",
    )
    # This app's bound, not S3's: longer retention is a records-management decision.
    retention_days: int = Field(
        ge=1, le=3650, description="default retention of every new object version, in days"
    )


class MonitoringConfig(StrictModel):
    alarm_email: str | None = Field(
        None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="email subscribed to the alarm topic"
    )


class AppConfig(StrictModel):
    """The whole deployment. See docs/config-reference.md."""

    project_name: str = Field("fm-platform", pattern=NAME_RE, max_length=24, description="prefix of stack names")
    region: str = Field(
        "us-east-1", pattern=REGION_RE, description="deployment region; each model must have an image there"
    )
    account: str | None = Field(None, pattern=r"^\d{12}$", description="None: environment-agnostic")
    # 365 by default: AWS Control Tower's proactive control CT.CLOUDWATCH.PR.2 asks for at
    # least a year, and a governed account refuses shorter retention at deploy time.
    log_retention_days: Literal[7, 14, 30, 60, 90, 180, 365, 731, 1827, 3653] = Field(
        365, description="CloudWatch Logs retention of every log group; below 365 fails Control Tower's CT.CLOUDWATCH.PR.2"
    )
    endpoints: list[EndpointConfig] = Field(
        default_factory=list, description="one real-time endpoint per model (may be empty with shared_endpoints)"
    )
    shared_endpoints: list[SharedEndpointConfig] = Field(
        default_factory=list, validate_default=True,
        description="endpoints shared by several models (inference components)",
    )
    api: ApiConfig = ApiConfig()
    network: NetworkConfig = NetworkConfig()
    studio: StudioConfig = StudioConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    object_lock: ObjectLockConfig | None = Field(
        None, description="S3 Object Lock on the buckets that can take it; off by default"
    )
    tags: dict[str, str] = Field(default_factory=dict, description="tags on every resource (keys may not start with aws:)")

    @field_validator("shared_endpoints")
    @classmethod
    def _some_model(cls, shared: list[SharedEndpointConfig], info: ValidationInfo) -> list[SharedEndpointConfig]:
        if "endpoints" in info.data and not info.data["endpoints"] and not shared:
            raise ValueError(
                "no model configured: add one under `endpoints` (its own endpoint) or under "
                "`shared_endpoints[].models` (a shared endpoint)"
            )
        require_unique([s.name for s in shared], "shared endpoint names")
        return shared

    @field_validator("api")
    @classmethod
    def _tier_models_served(cls, api: ApiConfig, info: ValidationInfo) -> ApiConfig:
        if api.tenants.tiers and "endpoints" in info.data and "shared_endpoints" in info.data:
            check_tier_models(api, _model_names(info.data["endpoints"], info.data["shared_endpoints"]))
        return api

    @field_validator("network")
    @classmethod
    def _azs_in_region(cls, network: NetworkConfig, info: ValidationInfo) -> NetworkConfig:
        region = info.data.get("region")
        wrong = [az for az in network.availability_zones if region and not az.startswith(region)]
        if wrong:
            raise ValueError(f"availability_zones must be in region {region}, got {', '.join(wrong)}")
        return network

    @field_validator("studio")
    @classmethod
    def _studio_needs_private_subnets(cls, studio: StudioConfig, info: ValidationInfo) -> StudioConfig:
        network = info.data.get("network")
        if studio.enabled and network is not None and network.mode == "none":
            raise ValueError(
                "Studio runs VpcOnly and needs private subnets; set network.mode to 'create' or "
                "'import' (got 'none'), or studio.enabled to false"
            )
        return studio

    @field_validator("tags")
    @classmethod
    def _tag_keys(cls, tags: dict[str, str]) -> dict[str, str]:
        bad = [k for k in tags if k.lower().startswith("aws:")]
        if bad:
            raise ValueError(f"tag keys may not start with 'aws:': {bad}")
        return tags


def _model_names(endpoints: list[EndpointConfig], shared: list[SharedEndpointConfig]) -> list[str]:
    """The names clients use for this deployment's models (a config name, else the catalog's
    short name); models the catalogs do not know are left to model resolution to refuse."""
    from stacks.config.catalog import models as jumpstart_models
    from stacks.config.marketplace_catalog import packages

    facts, listed = jumpstart_models().models, packages().packages
    names = []
    for ep in [*endpoints, *(m for s in shared for m in s.models)]:
        package = getattr(ep, "model_package", None)
        known = facts.get(ep.model_id or "") or listed.get(package or "")
        names += [n for n in (ep.name or getattr(known, "short_name", None),) if n]
    return names
