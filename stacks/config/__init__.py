"""The deployment config: one typed, validated object loaded once in app.py.

Two layers of checks, both before any construct exists:
1. shape (pydantic, unknown keys forbidden): types, ranges, enums;
2. meaning (`stacks.models.jumpstart.resolve_endpoints`): model x instance x region x
   GPU memory against the pinned JumpStart metadata and instance facts.
Both raise `ConfigError`, whose message names the field path and allowed values.

One module per part of the file (`endpoints`, `shared_endpoints`, `sleep`, `api`,
`network`, `studio`, `app` for the whole), `base` for what they share and `loading`
for YAML -> `AppConfig`. The names below are the package's public surface.
"""

from stacks.config.api import ApiConfig, FeedbackConfig, TenantsConfig, TenantTier, TierQuota
from stacks.config.app import AppConfig, MonitoringConfig, ObjectLockConfig
from stacks.config.base import ConfigError
from stacks.config.endpoints import (
    AlarmThresholds,
    AutoscalingConfig,
    DataCaptureConfig,
    EndpointConfig,
)
from stacks.config.loading import (
    DEFAULT_CONFIG,
    REPO,
    load_config,
    parse_config,
    stack_name,
)
from stacks.config.network import NetworkConfig
from stacks.config.shared_endpoints import SharedEndpointConfig, SharedModelConfig
from stacks.config.sleep import SleepConfig, SleepScheduleConfig
from stacks.config.studio import StudioConfig, StudioDeployConfig

__all__ = [
    "AlarmThresholds", "ApiConfig", "AppConfig", "AutoscalingConfig", "ConfigError", "DataCaptureConfig",
    "DEFAULT_CONFIG", "EndpointConfig", "FeedbackConfig", "MonitoringConfig", "NetworkConfig",
    "ObjectLockConfig", "REPO", "SharedEndpointConfig", "SharedModelConfig", "SleepConfig",
    "SleepScheduleConfig", "StudioConfig", "StudioDeployConfig", "TenantsConfig", "TenantTier", "TierQuota", "load_config", "parse_config", "stack_name",
]
