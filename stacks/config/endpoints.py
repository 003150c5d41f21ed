"""A model on its own real-time endpoint (JumpStart or Marketplace), and what it shares
with a model on a shared endpoint: data capture."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator, model_validator

from stacks.config.base import NAME_RE, StrictModel, require_ordered
from stacks.config.sleep import SleepConfig


class AutoscalingConfig(StrictModel):
    min_capacity: int = Field(1, gt=0, description="instances kept when idle")
    max_capacity: int = Field(1, gt=0, description="instances at most")
    target_invocations_per_instance: int = Field(
        4, gt=0, description="SageMakerVariantInvocationsPerInstance per minute to track"
    )
    scale_in_cooldown_seconds: int = Field(600, ge=0, description="seconds between scale-in steps")
    scale_out_cooldown_seconds: int = Field(300, ge=0, description="seconds between scale-out steps")

    @model_validator(mode="after")
    def _min_le_max(self) -> "AutoscalingConfig":
        require_ordered(self, "min_capacity", "max_capacity")
        return self


class DataCaptureConfig(StrictModel):
    enabled: bool = Field(True, description="capture requests and responses to the encrypted capture bucket")
    sampling_percentage: int = Field(20, ge=1, le=100, description="share of invocations captured")


class AlarmThresholds(StrictModel):
    model_latency_p90_ms: int = Field(20_000, gt=0, description="ModelLatency p90 over 5 min")
    disk_utilization_percent: int = Field(
        90, gt=0, le=100, description="instance disk (DiskUtilization, Maximum over 3 x 5 min)"
    )


class EndpointConfig(StrictModel):
    """One model hosted on one real-time endpoint: a JumpStart model (`model_id`) or an
    AWS Marketplace model package (`model_package`, config/catalog/marketplace.yaml)."""

    model_id: str | None = Field(None, description="a JumpStart model id; or model_package")
    model_package: str | None = Field(
        None, pattern=NAME_RE, max_length=63, description="an AWS Marketplace model package, e.g. ai21-j2-ultra"
    )
    name: str | None = Field(
        None, pattern=NAME_RE, max_length=40, description="name clients use; default from the catalog"
    )
    model_version: str | None = Field(None, description="default: the pinned version")
    instance_type: str | None = Field(None, description="default: the cheapest supported instance whose GPU memory fits (pinned prices)")
    instance_count: int = Field(1, gt=0, description="initial instance count")
    autoscaling: AutoscalingConfig | None = Field(None, description="target tracking; none: min = max = instance_count")
    accept_eula: bool = Field(False, description="required true for gated models (e.g. Llama-2)")
    environment: dict[str, str] = Field(default_factory=dict, description="container env overrides")
    data_capture: DataCaptureConfig = Field(DataCaptureConfig(), description="endpoint data capture")
    alarms: AlarmThresholds = Field(AlarmThresholds(), description="alarm thresholds (no GPU-memory alarm: TGI fills GPU memory by design)")
    startup_health_check_timeout_seconds: int | None = Field(
        None, ge=60, le=3600,
        description="model download and container start-up budget; default: JumpStart's deploy_kwargs, else sized from the weights (1200-3600)",
    )
    default: bool = Field(False, description="the model used when a request names none")
    sleep: SleepConfig | None = Field(None, description="idle-cost controls; off by default")

    @field_validator("sleep")
    @classmethod
    def _sleep_without_autoscaling(cls, sleep: SleepConfig | None, info: ValidationInfo) -> SleepConfig | None:
        # Deleting an endpoint deregisters its scalable target for good: a recreated
        # endpoint would silently run without the scaling policy CloudFormation shows.
        if sleep is not None and info.data.get("autoscaling") is not None:
            raise ValueError(
                "cannot be combined with autoscaling: deleting an endpoint deregisters its scalable "
                "target, so a recreated endpoint would not scale; remove autoscaling or sleep"
            )
        return sleep

    @model_validator(mode="before")
    @classmethod
    def _one_model_source(cls, data: object) -> object:
        if isinstance(data, dict) and (data.get("model_id") is None) == (data.get("model_package") is None):
            from stacks.config.marketplace_catalog import (
                packages,  # read on this error path only
            )

            raise ValueError(
                "set exactly one of model_id (a JumpStart model) and model_package (an AWS Marketplace model "
                f"package; listed: {', '.join(packages().listed())})"
            )
        return data

    @model_validator(mode="after")
    def _count_within_autoscaling(self) -> "EndpointConfig":
        a = self.autoscaling
        if a and not a.min_capacity <= self.instance_count <= a.max_capacity:
            raise ValueError(
                f"instance_count ({self.instance_count}) must lie within autoscaling "
                f"[{a.min_capacity}, {a.max_capacity}]"
            )
        return self
