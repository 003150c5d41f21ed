"""The SageMaker Studio domain: idle shutdown and user profiles."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from stacks.config.base import StrictModel, require_ordered, require_unique

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
