"""The SageMaker Studio domain: idle shutdown and user profiles."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from stacks.config.base import StrictModel, require_ordered, require_unique
# Tags of what a notebook deploys, defined once with the reaper that reads them
# (lambdas/studio_reaper/tags.py): IAM lets a notebook create models, endpoint configs and
# endpoints only with OWNER_TAG set to its user profile (the session's source identity) and
# change or delete only those carrying it (stacks/constructs/studio_deploy.py); TTL_TAG is
# the reaper's per-endpoint age limit in hours. Re-exported here for the app's modules.
from studio_reaper.tags import OWNER_TAG, TTL_TAG  # noqa: F401

# SageMaker's UserProfileName pattern (CreateUserProfile API reference).
USER_PROFILE_RE = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
# IdleSettings bounds (SageMaker API reference, IdleSettings).
IDLE_MINUTES = (60, 525_600)


def _user_profile_name(name: str) -> str:
    if not re.fullmatch(USER_PROFILE_RE, name):
        raise ValueError(
            f"{name!r} is not a valid user profile name; allowed: 1-63 letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    return name


INSTANCE_TYPE_RE = r"^ml\.[a-z0-9]+\.[a-z0-9]+$"


class StudioDeployConfig(StrictModel):
    """What a notebook in the Studio domain may deploy (issue 21; docs/studio.md): JumpStart
    models on allow-listed instances, tagged with their owner, and a reaper that deletes
    what is left running."""

    enabled: bool = Field(
        True, description="notebooks may create models, endpoint configs and endpoints within these guardrails; "
        "off: the execution role stays read-only (invoke only)",
    )
    instance_types: list[Annotated[str, Field(pattern=INSTANCE_TYPE_RE)]] | None = Field(
        None, description="instance types a notebook may deploy on (IAM sagemaker:InstanceTypes); null: the "
        "cheapest instance that fits each catalog model, none above max_gpus GPUs",
    )
    max_gpus: int = Field(4, ge=0, le=8, description="the default allow-list leaves out instances with more GPUs")
    idle_hours: int = Field(
        2, ge=1, le=168, description="the reaper deletes a notebook endpoint with no invocations for this long",
    )
    ttl_hours: int = Field(
        24, ge=1, le=720, description="age after which the reaper deletes a notebook endpoint whose ttl-hours "
        "tag does not say otherwise",
    )
    reaper_rate_minutes: int = Field(
        60, ge=5, le=1440, description="how often the reaper runs; the owner is notified one run before deletion",
    )
    dry_run: bool = Field(False, description="the reaper only logs what it would notify and delete; no notice, tag or deletion")
    max_endpoints_per_user: int = Field(
        2, ge=1, le=20, description="endpoints one user should run at once; the synth summary's worst-case cost "
        "is this x the allow-list's dearest instance. IAM cannot count resources, so no policy enforces it: "
        "only the reaper can",
    )


class StudioConfig(StrictModel):
    """The SageMaker Studio domain (VpcOnly, IAM auth); needs network.mode create or import."""

    enabled: bool = Field(False, description="deploy the Studio domain (needs network.mode create or import)")
    idle_timeout_minutes: int = Field(60, description="JupyterLab/Code Editor idle shutdown, minutes")
    max_idle_timeout_minutes: int = Field(480, description="upper bound users may set for themselves")
    instance_type: str = Field(
        "ml.t3.medium", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$", description="default app instance type"
    )
    user_profiles: list[Annotated[str, AfterValidator(_user_profile_name)]] = Field(
        default_factory=list, description="user profiles to create (unique SageMaker profile names)"
    )
    deploy: StudioDeployConfig = Field(
        default_factory=StudioDeployConfig,
        description="model deployment from notebooks: guardrails and the reaper (docs/studio.md)",
    )
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
        require_ordered(self, "idle_timeout_minutes", "max_idle_timeout_minutes")
        require_unique(self.user_profiles, "user_profiles")
        return self
