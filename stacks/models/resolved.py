"""Properties shared by the resolved models the constructs consume.

`stacks.models.jumpstart.ResolvedEndpoint` (a JumpStart model on a classic endpoint),
`stacks.models.marketplace.ResolvedPackage` (a Marketplace model package on a classic endpoint)
and `stacks.models.shared_endpoints.ResolvedComponent` (a JumpStart model on a shared endpoint)
derive the same facts from their fields; the mixins below hold them once. The mixins
declare no dataclass fields; `PinnedJumpStartModel` holds the fields both JumpStart
kinds share (what `stacks.models.pinned.pinned_fields` fills, plus name and default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from stacks.config import EndpointConfig, catalog


class NamedModel:
    """A model named `name`, with the construct id derived from it."""

    name: str

    @property
    def construct_id(self) -> str:
        """`falcon-7b-instruct` -> `Falcon7bInstruct`: the model construct's id (stable,
        readable logical IDs), which the review report reads back."""
        return "".join(part.capitalize() for part in self.name.split("-"))


class ContainerEnvironment:
    """The TGI limits a JumpStart container's environment sets (None where it sets none)."""

    environment: Mapping[str, str]

    def _int_env(self, key: str) -> int | None:
        value = self.environment.get(key)
        return int(value) if value else None

    @property
    def sm_num_gpus(self) -> int | None:
        return self._int_env("SM_NUM_GPUS")

    @property
    def max_input_length(self) -> int | None:
        return self._int_env("MAX_INPUT_LENGTH")

    @property
    def max_total_tokens(self) -> int | None:
        return self._int_env("MAX_TOTAL_TOKENS")


class JumpStartArtifacts:
    """Where a JumpStart model's image and artifacts live, for its model and scoped grants."""

    image_uri: str
    artifact_bucket: str
    artifact_key: str

    @property
    def image_repository(self) -> tuple[str, str]:
        """(registry account, repository name) of the image, for a scoped ECR grant."""
        host, _, rest = self.image_uri.partition("/")
        return host.split(".")[0], rest.split(":")[0].split("@")[0]

    @property
    def artifact_s3_uri(self) -> str:
        return f"s3://{self.artifact_bucket}/{self.artifact_key}"


class EndpointCapacity:
    """The instance range and hourly cost of a classic endpoint, from its settings."""

    instance: catalog.InstanceFacts
    settings: EndpointConfig

    @property
    def min_capacity(self) -> int:
        a = self.settings.autoscaling
        return a.min_capacity if a else self.settings.instance_count

    @property
    def max_capacity(self) -> int:
        a = self.settings.autoscaling
        return a.max_capacity if a else self.settings.instance_count

    @property
    def usd_per_hour(self) -> float:
        return self.instance.usd_per_hour * self.settings.instance_count


@dataclass(frozen=True)
class PinnedJumpStartModel(NamedModel, ContainerEnvironment, JumpStartArtifacts):
    """A pinned JumpStart model as resolved for one region, wherever it is hosted."""

    name: str
    model_id: str
    model_version: str
    family: str
    kind: str
    region: str
    image_uri: str
    artifact_bucket: str
    artifact_key: str
    artifact_is_prefix: bool
    gated: bool
    environment: dict[str, str]
    weights_gib: float
    model_data_download_timeout_seconds: int
    startup_health_check_timeout_seconds: int
    is_default: bool
