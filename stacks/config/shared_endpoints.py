"""Shared endpoints: several JumpStart models on one endpoint's instances, as inference
components with managed instance scaling (down to zero)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from stacks.config.base import NAME_RE, StrictModel, require_ordered
from stacks.config.endpoints import DataCaptureConfig


class CopyScalingConfig(StrictModel):
    """Target tracking on an inference component's copy count (SageMakerInferenceComponentInvocationsPerCopy)."""

    target_invocations_per_copy: int = Field(4, gt=0, description="invocations per copy per minute to track")
    scale_in_cooldown_seconds: int = Field(600, ge=0, description="seconds between scale-in steps")
    scale_out_cooldown_seconds: int = Field(300, ge=0, description="seconds between scale-out steps")


class ComponentAlarmThresholds(StrictModel):
    model_latency_p90_ms: int = Field(20_000, gt=0, description="ModelLatency p90 over 5 min, per model")


class SharedEndpointAlarmThresholds(StrictModel):
    disk_utilization_percent: int = Field(
        90, gt=0, le=100, description="instance disk (DiskUtilization, Maximum over 3 x 5 min)"
    )


# Why data capture is refused for models on a shared endpoint (issue 11): SageMaker
# configures capture on the endpoint config (CreateEndpointConfig DataCaptureConfig),
# which every model of a shared endpoint shares; CreateInferenceComponent has no capture
# setting, and the data capture guide documents it for model-based endpoints only.
IC_DATA_CAPTURE_REFUSAL = (
    "data capture is not available for a model on a shared endpoint: SageMaker configures capture on "
    "the endpoint config, which all of its inference components share, and CreateInferenceComponent has "
    "no capture setting; set enabled: false, or host the model under `endpoints` to capture its traffic"
)


class SharedModelConfig(StrictModel):
    """One JumpStart model on a shared endpoint: an inference component whose copies each
    take `accelerators` GPUs of the endpoint's instances."""

    model_id: str = Field(description="a JumpStart model id (see docs/models.md)")
    name: str | None = Field(
        None, pattern=NAME_RE, max_length=40, description="name clients use; default from the catalog"
    )
    model_version: str | None = Field(None, description="default: the pinned version")
    accelerators: int = Field(gt=0, description="GPUs per copy (NumberOfAcceleratorDevicesRequired, SM_NUM_GPUS)")
    memory_mib: int | None = Field(
        None, ge=128,
        description="host memory reserved per copy (MinMemoryRequiredInMb); default: JumpStart's hosting "
        "resource requirements where the pinned spec has them, else the bf16 weights rounded up to a GiB",
    )
    min_copies: int = Field(0, ge=0, description="copies kept when idle; 0 scales the model to zero")
    max_copies: int = Field(1, gt=0, description="copies at most")
    scaling: CopyScalingConfig = Field(CopyScalingConfig(), description="copy-count target tracking")
    accept_eula: bool = Field(False, description="required true for gated models")
    environment: dict[str, str] = Field(default_factory=dict, description="container env overrides")
    data_capture: DataCaptureConfig = Field(
        DataCaptureConfig(enabled=False), description="must stay disabled (see IC_DATA_CAPTURE_REFUSAL)"
    )
    alarms: ComponentAlarmThresholds = Field(ComponentAlarmThresholds(), description="the model's alarm thresholds")
    startup_health_check_timeout_seconds: int | None = Field(
        None, ge=60, le=3600, description="as for endpoints[]: model download and container start-up budget"
    )
    default: bool = Field(False, description="the model used when a request names none")

    @field_validator("data_capture")
    @classmethod
    def _no_capture(cls, capture: DataCaptureConfig) -> DataCaptureConfig:
        if capture.enabled:
            raise ValueError(IC_DATA_CAPTURE_REFUSAL)
        return capture

    @model_validator(mode="after")
    def _copies(self) -> "SharedModelConfig":
        require_ordered(self, "min_copies", "max_copies")
        return self


class SharedEndpointConfig(StrictModel):
    """One real-time endpoint whose instances host several models as inference components,
    with managed instance scaling (down to zero instances when min_instances is 0)."""

    name: str = Field(pattern=NAME_RE, max_length=24, description="identifies the endpoint in this config")
    instance_type: str = Field(
        pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$", description="one instance type for all its models, with pinned facts"
    )
    min_instances: int = Field(0, ge=0, description="ManagedInstanceScaling MinInstanceCount; 0: scale to zero")
    max_instances: int = Field(1, gt=0, description="ManagedInstanceScaling MaxInstanceCount")
    alarms: SharedEndpointAlarmThresholds = Field(SharedEndpointAlarmThresholds(), description="instance alarm thresholds")
    models: list[SharedModelConfig] = Field(min_length=1, description="one inference component each")

    @model_validator(mode="after")
    def _instances(self) -> "SharedEndpointConfig":
        require_ordered(self, "min_instances", "max_instances")
        return self
