"""The deployment config: one typed, validated object loaded once in app.py.

Two layers of checks, both before any construct exists:
1. shape (pydantic, unknown keys forbidden): types, ranges, enums;
2. meaning (`stacks.jumpstart.resolve_endpoints`): model x instance x region x
   GPU memory against the pinned JumpStart metadata and instance facts.
Both raise `ConfigError`, whose message names the field path and allowed values.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO / "config" / "default.yaml"

NAME_RE = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
REGION_RE = r"^[a-z]{2}(-[a-z]+)+-\d$"


class ConfigError(ValueError):
    """A config that cannot be deployed; the message is meant for the operator."""

    def __init__(self, path: str, message: str, source: str | None = None):
        self.path = path
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{path}: {message}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AutoscalingConfig(_Strict):
    min_capacity: int = Field(1, gt=0, description="instances kept when idle")
    max_capacity: int = Field(1, gt=0)
    target_invocations_per_instance: int = Field(
        4, gt=0, description="SageMakerVariantInvocationsPerInstance per minute to track"
    )
    scale_in_cooldown_seconds: int = Field(600, ge=0)
    scale_out_cooldown_seconds: int = Field(300, ge=0)

    @model_validator(mode="after")
    def _min_le_max(self) -> "AutoscalingConfig":
        if self.min_capacity > self.max_capacity:
            raise ValueError(
                f"min_capacity ({self.min_capacity}) must be <= max_capacity ({self.max_capacity})"
            )
        return self


class DataCaptureConfig(_Strict):
    enabled: bool = True
    sampling_percentage: int = Field(20, ge=1, le=100)


class AlarmThresholds(_Strict):
    model_latency_p90_ms: int = Field(20_000, gt=0, description="ModelLatency p90 over 5 min")
    gpu_memory_utilization_percent: int = Field(
        90, gt=0, le=100, description="average across the instance's GPUs"
    )


class EndpointConfig(_Strict):
    """One JumpStart model hosted on one real-time endpoint."""

    model_id: str
    name: str | None = Field(
        None, pattern=NAME_RE, max_length=40, description="name clients use; default from the catalog"
    )
    model_version: str | None = Field(None, description="default: the pinned version")
    instance_type: str | None = Field(None, description="default: JumpStart's default for the model")
    instance_count: int = Field(1, gt=0, description="initial instance count")
    autoscaling: AutoscalingConfig | None = None
    accept_eula: bool = False
    environment: dict[str, str] = Field(default_factory=dict, description="container env overrides")
    data_capture: DataCaptureConfig = DataCaptureConfig()
    alarms: AlarmThresholds = AlarmThresholds()
    startup_health_check_timeout_seconds: int | None = Field(None, ge=60, le=3600)
    default: bool = Field(False, description="the model used when a request names none")

    @model_validator(mode="after")
    def _count_within_autoscaling(self) -> "EndpointConfig":
        a = self.autoscaling
        if a and not a.min_capacity <= self.instance_count <= a.max_capacity:
            raise ValueError(
                f"instance_count ({self.instance_count}) must lie within autoscaling "
                f"[{a.min_capacity}, {a.max_capacity}]"
            )
        return self


class ApiConfig(_Strict):
    enabled: bool = True
    auth: Literal["iam", "cognito"] = "iam"
    throttle_rate_limit: float = Field(50, gt=0, description="requests per second, stage-wide")
    throttle_burst_limit: int = Field(100, gt=0)
    waf_rate_limit_per_5min: int = Field(
        1000, ge=10, le=2_000_000_000, description="per client IP (WAF rate-based rule)"
    )
    reserved_concurrency: int = Field(20, gt=0)
    summarize_max_concurrency: int = Field(8, gt=0, le=64)
    extra_templates: list[dict] = Field(
        default_factory=list, description="operator prompt templates, same schema as the built-ins"
    )


class NetworkConfig(_Strict):
    mode: Literal["none", "create", "import"] = "none"
    vpc_id: str | None = Field(None, pattern=r"^vpc-[0-9a-f]{8,17}$")
    subnet_ids: list[str] = Field(default_factory=list)
    nat_gateways: int = Field(0, ge=0, le=2)
    cidr: str = "10.40.0.0/16"


class StudioConfig(_Strict):
    enabled: bool = False
    idle_timeout_minutes: int = 60
    user_profiles: list[str] = Field(default_factory=list)


class MonitoringConfig(_Strict):
    alarm_email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AppConfig(_Strict):
    """The whole deployment. See README "Config reference"."""

    project_name: str = Field("fm-platform", pattern=NAME_RE, max_length=24)
    region: str = Field("us-east-1", pattern=REGION_RE)
    account: str | None = Field(None, pattern=r"^\d{12}$", description="None: environment-agnostic")
    log_retention_days: Literal[7, 14, 30, 60, 90, 180, 365, 731, 1827, 3653] = 30
    endpoints: list[EndpointConfig] = Field(min_length=1)
    api: ApiConfig = ApiConfig()
    network: NetworkConfig = NetworkConfig()
    studio: StudioConfig = StudioConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("tags")
    @classmethod
    def _tag_keys(cls, tags: dict[str, str]) -> dict[str, str]:
        bad = [k for k in tags if k.lower().startswith("aws:")]
        if bad:
            raise ValueError(f"tag keys may not start with 'aws:': {bad}")
        return tags


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def parse_config(data: object, source: str | None = None) -> AppConfig:
    """Validate raw config data; the first error becomes a ConfigError."""
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"]
        if err["type"] == "literal_error":
            msg = f"{msg} (got {err['input']!r})"
        elif err["type"] == "extra_forbidden":
            parent = err["loc"][:-1]
            allowed = _allowed_fields(parent)
            msg = f"unknown field; allowed: {', '.join(allowed)}"
        extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(_path(err["loc"]), msg + extra, source) from None


def _allowed_fields(loc: tuple) -> list[str]:
    model: type[BaseModel] = AppConfig
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        inner = getattr(annotation, "__args__", (annotation,))
        model = next(a for a in inner if isinstance(a, type) and issubclass(a, BaseModel))
    return list(model.model_fields)


def load_config(path: str | Path | None = None) -> AppConfig:
    """Read and validate a YAML config (default: config/default.yaml)."""
    path = Path(path) if path else DEFAULT_CONFIG
    if not path.is_file():
        raise ConfigError("config", f"file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError("config", f"not valid YAML: {exc}", str(path)) from None
    return parse_config(data, str(path))


def stack_name(config: AppConfig, suffix: str) -> str:
    return f"{config.project_name}-{suffix}"


def is_valid_name(value: str) -> bool:
    return re.fullmatch(NAME_RE, value) is not None
