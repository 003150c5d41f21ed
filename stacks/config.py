"""The deployment config: one typed, validated object loaded once in app.py.

Two layers of checks, both before any construct exists:
1. shape (pydantic, unknown keys forbidden): types, ranges, enums;
2. meaning (`stacks.jumpstart.resolve_endpoints`): model x instance x region x
   GPU memory against the pinned JumpStart metadata and instance facts.
Both raise `ConfigError`, whose message names the field path and allowed values.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

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
    # strict: YAML `true` is not a count and "3" is not a number.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


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
    disk_utilization_percent: int = Field(
        90, gt=0, le=100, description="instance disk (DiskUtilization, Maximum over 3 x 5 min)"
    )


# EventBridge Scheduler cron: minutes hours day-of-month month day-of-week year.
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/#-]+$")
_CRON_EXAMPLE = "e.g. '0 8 ? * MON-FRI *' (minutes hours day-of-month month day-of-week year)"


def _cron(expr: str) -> str:
    fields = expr.split()
    if len(fields) != 6 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(f"{expr!r} is not an EventBridge Scheduler cron expression; {_CRON_EXAMPLE}")
    minute, hour, dom, _, dow, _ = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError(f"{expr!r}: exactly one of day-of-month and day-of-week must be '?'; {_CRON_EXAMPLE}")
    for value, name, high in ((minute, "minutes", 59), (hour, "hours", 23)):
        numbers = [int(n) for n in re.findall(r"\d+", value)]
        if any(n > high for n in numbers):
            raise ValueError(f"{expr!r}: {name} must be 0-{high}; {_CRON_EXAMPLE}")
    return expr


def _timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin, America/New_York or UTC"
        ) from None
    return name


class SleepScheduleConfig(_Strict):
    """Working hours: the endpoint is deleted at sleep_cron and recreated at wake_cron."""

    timezone: Annotated[str, AfterValidator(_timezone)] = Field(description="IANA time zone, e.g. Europe/Berlin")
    wake_cron: Annotated[str, AfterValidator(_cron)] = Field(description="when to recreate the endpoint")
    sleep_cron: Annotated[str, AfterValidator(_cron)] = Field(description="when to delete the endpoint")

    @model_validator(mode="after")
    def _distinct(self) -> "SleepScheduleConfig":
        if self.wake_cron.split() == self.sleep_cron.split():
            raise ValueError(f"wake_cron and sleep_cron must differ, both are {self.wake_cron!r}")
        return self


# An idle window longer than a week would rarely fire before the weekly schedules do.
IDLE_HOURS = (1, 168)


class SleepConfig(_Strict):
    """Idle-cost controls; the model and endpoint config stay, only the endpoint (and
    its instances) goes, and a schedule, an API call or the CLI brings it back."""

    schedule: SleepScheduleConfig | None = None
    idle_after_hours: int | None = Field(
        None, ge=IDLE_HOURS[0], le=IDLE_HOURS[1], description="delete after this many hours without invocations"
    )

    @model_validator(mode="after")
    def _something_to_do(self) -> "SleepConfig":
        if self.schedule is None and self.idle_after_hours is None:
            raise ValueError("set schedule, idle_after_hours or both (or drop sleep to keep the endpoint up)")
        return self


class EndpointConfig(_Strict):
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
    autoscaling: AutoscalingConfig | None = None
    accept_eula: bool = False
    environment: dict[str, str] = Field(default_factory=dict, description="container env overrides")
    data_capture: DataCaptureConfig = DataCaptureConfig()
    alarms: AlarmThresholds = AlarmThresholds()
    startup_health_check_timeout_seconds: int | None = Field(None, ge=60, le=3600)
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
            from stacks.marketplace_catalog import packages  # read on this error path only

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


class CopyScalingConfig(_Strict):
    """Target tracking on an inference component's copy count (SageMakerInferenceComponentInvocationsPerCopy)."""

    target_invocations_per_copy: int = Field(4, gt=0, description="invocations per copy per minute to track")
    scale_in_cooldown_seconds: int = Field(600, ge=0)
    scale_out_cooldown_seconds: int = Field(300, ge=0)


class ComponentAlarmThresholds(_Strict):
    model_latency_p90_ms: int = Field(20_000, gt=0, description="ModelLatency p90 over 5 min, per model")


class SharedEndpointAlarmThresholds(_Strict):
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


class SharedModelConfig(_Strict):
    """One JumpStart model on a shared endpoint: an inference component whose copies each
    take `accelerators` GPUs of the endpoint's instances."""

    model_id: str
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
    max_copies: int = Field(1, gt=0)
    scaling: CopyScalingConfig = CopyScalingConfig()
    accept_eula: bool = False
    environment: dict[str, str] = Field(default_factory=dict, description="container env overrides")
    data_capture: DataCaptureConfig = Field(
        DataCaptureConfig(enabled=False), description="must stay disabled (see IC_DATA_CAPTURE_REFUSAL)"
    )
    alarms: ComponentAlarmThresholds = ComponentAlarmThresholds()
    startup_health_check_timeout_seconds: int | None = Field(None, ge=60, le=3600)
    default: bool = Field(False, description="the model used when a request names none")

    @field_validator("data_capture")
    @classmethod
    def _no_capture(cls, capture: DataCaptureConfig) -> DataCaptureConfig:
        if capture.enabled:
            raise ValueError(IC_DATA_CAPTURE_REFUSAL)
        return capture

    @model_validator(mode="after")
    def _copies(self) -> "SharedModelConfig":
        if self.min_copies > self.max_copies:
            raise ValueError(f"min_copies ({self.min_copies}) must be <= max_copies ({self.max_copies})")
        return self


class SharedEndpointConfig(_Strict):
    """One real-time endpoint whose instances host several models as inference components,
    with managed instance scaling (down to zero instances when min_instances is 0)."""

    name: str = Field(pattern=NAME_RE, max_length=24, description="identifies the endpoint in this config")
    instance_type: str = Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    min_instances: int = Field(0, ge=0, description="ManagedInstanceScaling MinInstanceCount; 0: scale to zero")
    max_instances: int = Field(1, gt=0, description="ManagedInstanceScaling MaxInstanceCount")
    alarms: SharedEndpointAlarmThresholds = SharedEndpointAlarmThresholds()
    models: list[SharedModelConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _instances(self) -> "SharedEndpointConfig":
        if self.min_instances > self.max_instances:
            raise ValueError(
                f"min_instances ({self.min_instances}) must be <= max_instances ({self.max_instances})"
            )
        return self


class FeedbackConfig(_Strict):
    """What the front door keeps for the human-feedback loop (docs/feedback-loop.md).

    Prompts and outputs are user data: nothing is kept unless `store_generations` is on;
    then every text generation's prompt and outputs go to the KMS-encrypted feedback table
    and expire (DynamoDB TTL) `retention_days` after they were made, with their feedback."""

    store_generations: bool = Field(
        False, description="keep each text generation's prompt and outputs for feedback to join (user data)"
    )
    retention_days: int = Field(
        90, ge=1, le=3650, description="days stored generations and their feedback are kept (DynamoDB TTL)"
    )


class ApiConfig(_Strict):
    enabled: bool = True
    auth: Literal["iam", "cognito"] = "iam"
    throttle_rate_limit: float = Field(50, gt=0, description="requests per second, stage-wide")
    throttle_burst_limit: int = Field(100, gt=0)
    waf_rate_limit_per_5min: int = Field(
        1000, ge=10, le=2_000_000_000, description="per client IP (WAF rate-based rule)"
    )
    reserved_concurrency: int | None = Field(
        None,
        gt=0,
        description=(
            "front door reserved concurrency; None reserves nothing. AWS lets an account reserve "
            "up to its unreserved concurrency minus 100, and new accounts often have a quota of 10 "
            "or 50, so any value here needs a quota increase first (make preflight checks it)"
        ),
    )
    jobs_max_concurrency: int = Field(
        5, ge=2, le=1000,
        description="summarization jobs run at once (the SQS event source's MaximumConcurrency)",
    )
    summarize_max_concurrency: int = Field(8, gt=0, le=64)
    extra_templates: list[dict] = Field(
        default_factory=list, description="operator prompt templates, same schema as the built-ins"
    )
    feedback: FeedbackConfig = Field(default_factory=FeedbackConfig)


SUBNET_ID_RE = r"^subnet-[0-9a-f]{8,17}$"
# SageMaker's UserProfileName pattern (CreateUserProfile API reference).
USER_PROFILE_RE = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
# IdleSettings bounds (SageMaker API reference, IdleSettings).
IDLE_MINUTES = (60, 525_600)


class NetworkConfig(_Strict):
    """Where in-VPC model endpoints and Studio run: no VPC, a new one, or an existing one."""

    mode: Literal["none", "create", "import"] = Field(
        "none", description="none: no VPC; create: a new private VPC; import: existing ids"
    )
    vpc_id: str | None = Field(
        None, pattern=r"^vpc-[0-9a-f]{8,17}$", validate_default=True, description="import only"
    )
    subnet_ids: list[Annotated[str, Field(pattern=SUBNET_ID_RE)]] = Field(
        default_factory=list,
        validate_default=True,
        description="import only: private subnets (no route to an internet gateway)",
    )
    nat_gateways: int = Field(0, ge=0, le=2, description="create only; 0 keeps subnets isolated")
    cidr: str = Field("10.40.0.0/16", description="create only: the new VPC's range")
    availability_zones: list[str] = Field(
        default_factory=list,
        description="create only: two AZ names; default: the region's first two for the account",
    )
    functions_in_vpc: bool = Field(
        False,
        description="create or import: run the app's Lambda functions in the private subnets "
        "(AWS Control Tower CT.LAMBDA.PR.3); create adds the VPC endpoints they call",
    )

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, cidr: str) -> str:
        try:
            net = ipaddress.IPv4Network(cidr)
        except ValueError:
            raise ValueError(f"{cidr!r} is not an IPv4 network in CIDR notation, e.g. 10.40.0.0/16") from None
        if not 16 <= net.prefixlen <= 24:
            raise ValueError(f"prefix length must be 16-24 (two AZs of private and public subnets), got /{net.prefixlen}")
        return cidr

    @field_validator("vpc_id", "subnet_ids", "nat_gateways", "availability_zones")
    @classmethod
    def _fields_match_mode(cls, value, info: ValidationInfo):
        mode = info.data.get("mode")
        field = info.field_name
        if mode == "import" and field in ("vpc_id", "subnet_ids") and not value:
            what = "the existing VPC's id (vpc-...)" if field == "vpc_id" else (
                "the ids of the private subnets Studio and the endpoints run in (subnet-...)"
            )
            raise ValueError(f"network.mode 'import' needs {what}")
        allowed = {"vpc_id": "import", "subnet_ids": "import", "nat_gateways": "create", "availability_zones": "create"}
        if mode is not None and value and mode != allowed[field]:
            raise ValueError(f"applies to network.mode '{allowed[field]}' only (mode is '{mode}')")
        if field == "availability_zones" and value and len(set(value)) != 2:
            raise ValueError(f"needs exactly two distinct AZ names, got {value}")
        return value

    @field_validator("functions_in_vpc")
    @classmethod
    def _functions_need_a_vpc(cls, value: bool, info: ValidationInfo) -> bool:
        mode = info.data.get("mode")
        if value and mode == "none":
            raise ValueError(
                "applies to network.mode 'create' or 'import' only (mode is 'none'): the functions need private "
                "subnets; set network.mode to 'create' (a new private VPC) or 'import' (your VPC's ids), or "
                "functions_in_vpc to false"
            )
        return value


def _user_profile_name(name: str) -> str:
    if not re.fullmatch(USER_PROFILE_RE, name):
        raise ValueError(
            f"{name!r} is not a valid user profile name; allowed: 1-63 letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    return name


class StudioConfig(_Strict):
    """The SageMaker Studio domain (VpcOnly, IAM auth); needs network.mode create or import."""

    enabled: bool = False
    idle_timeout_minutes: int = Field(60, description="JupyterLab/Code Editor idle shutdown, minutes")
    max_idle_timeout_minutes: int = Field(480, description="upper bound users may set for themselves")
    instance_type: str = Field(
        "ml.t3.medium", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$", description="default app instance type"
    )
    user_profiles: list[Annotated[str, AfterValidator(_user_profile_name)]] = Field(default_factory=list)
    delete_home_efs_on_destroy: bool = Field(
        False,
        description="on stack delete, also delete the user profiles, the domain with its home EFS volume "
        "(DeleteDomain RetentionPolicy HomeEfsFileSystem=Delete) and SageMaker's NFS security groups; "
        "this DELETES EVERY USER'S HOME DIRECTORY. Off: they are retained and block the VPC's deletion "
        "until removed by hand",
    )

    @field_validator("idle_timeout_minutes", "max_idle_timeout_minutes")
    @classmethod
    def _idle_bounds(cls, minutes: int) -> int:
        low, high = IDLE_MINUTES
        if not low <= minutes <= high:
            raise ValueError(f"must be {low}-{high} minutes (SageMaker idle shutdown range), got {minutes}")
        return minutes

    @model_validator(mode="after")
    def _idle_within_max(self) -> "StudioConfig":
        if self.idle_timeout_minutes > self.max_idle_timeout_minutes:
            raise ValueError(
                f"idle_timeout_minutes ({self.idle_timeout_minutes}) must be <= "
                f"max_idle_timeout_minutes ({self.max_idle_timeout_minutes})"
            )
        dupes = sorted({n for n in self.user_profiles if self.user_profiles.count(n) > 1})
        if dupes:
            raise ValueError(f"user_profiles must be unique, repeated: {', '.join(dupes)}")
        return self


class ObjectLockConfig(_Strict):
    """S3 Object Lock (AWS Control Tower CT.S3.PR.9) on the buckets that can take it: the
    data-capture, jobs and Studio buckets (`stacks.constructs.secure_bucket.SecureBucket`;
    the jobs bucket without a default retention), never the server-access-log targets: "S3
    buckets with Object Lock can't be used as destination buckets for server access logs"
    (S3 User Guide, "Configuring S3 Object Lock"). It cannot be switched off again; see
    README "Governed accounts" for what it costs and changes."""

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


class MonitoringConfig(_Strict):
    alarm_email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AppConfig(_Strict):
    """The whole deployment. See README "Config reference"."""

    project_name: str = Field("fm-platform", pattern=NAME_RE, max_length=24)
    region: str = Field("us-east-1", pattern=REGION_RE)
    account: str | None = Field(None, pattern=r"^\d{12}$", description="None: environment-agnostic")
    # 365 by default: AWS Control Tower's proactive control CT.CLOUDWATCH.PR.2 asks for at
    # least a year, and a governed account refuses shorter retention at deploy time.
    log_retention_days: Literal[7, 14, 30, 60, 90, 180, 365, 731, 1827, 3653] = 365
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
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("shared_endpoints")
    @classmethod
    def _some_model(cls, shared: list[SharedEndpointConfig], info: ValidationInfo) -> list[SharedEndpointConfig]:
        if "endpoints" in info.data and not info.data["endpoints"] and not shared:
            raise ValueError(
                "no model configured: add one under `endpoints` (its own endpoint) or under "
                "`shared_endpoints[].models` (a shared endpoint)"
            )
        names = [s.name for s in shared]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"shared endpoint names must be unique, repeated: {', '.join(dupes)}")
        return shared

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
        msg = err["msg"].removeprefix("Value error, ")
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
