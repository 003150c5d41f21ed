"""AWS Marketplace model packages as pinned public facts (config/catalog/marketplace.yaml):
the data model and its loader, apart from resolution (``stacks.models.marketplace``) so that
the config can name the listed packages without importing what resolves them."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

import stacks.config.catalog as catalog

CATALOG_FILE = catalog.CATALOG_DIR / "marketplace.yaml"
ARN_RE = re.compile(r"^arn:aws:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):model-package/(?P<name>[A-Za-z0-9-]{1,63})$")

# What AI21's notebooks deploy J2 packages with (`model_data_download_timeout=3600,
# container_startup_health_check_timeout=600`, AI21Labs/SageMaker J2_*_example_model_use.ipynb).
DOWNLOAD_TIMEOUT_S = 3600
HEALTH_CHECK_TIMEOUT_S = 600


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PackageInstance(_Frozen):
    context_tokens: int = Field(gt=1, description="prompt + completion tokens the package serves on this instance")


class PackageFacts(_Frozen):
    title: str
    family: catalog.Family
    kind: catalog.Kind
    status: Literal["listed", "withdrawn"]
    short_name: str | None = None
    vendor: str | None = None
    listing: str | None = None
    version: str | None = None
    instances: dict[str, PackageInstance] = Field(default_factory=dict)
    context_source: str | None = None
    regions: dict[str, str] = Field(default_factory=dict, description="region -> model package ARN")
    replaced_by: str | None = None
    status_note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "PackageFacts":
        if self.status == "listed":
            missing = [f for f in ("short_name", "listing", "version", "context_source")
                       if getattr(self, f) is None]
            if missing or not self.instances or not self.regions:
                raise ValueError(f"a listed package needs short_name, listing, version, context_source, "
                                 f"instances and regions (missing: {', '.join(missing) or 'instances/regions'})")
        elif self.regions or self.instances or not self.replaced_by:
            raise ValueError("a withdrawn package has replaced_by and no regions or instances")
        names = set()
        for region, arn in self.regions.items():
            match = ARN_RE.match(arn)
            if not match or match["region"] != region:
                raise ValueError(f"regions.{region}: {arn!r} is not a model package ARN in {region}")
            names.add(match["name"])
        if len(names) > 1:
            raise ValueError(f"one package, one name in every region; got {sorted(names)}")
        if self.version and names and self.version not in next(iter(names)):
            raise ValueError(f"version {self.version} is not part of the package name {next(iter(names))}")
        return self


class MarketplaceCatalog(_Frozen):
    source: str
    pinned: str
    family_notes: dict[str, str] = Field(default_factory=dict)
    packages: dict[str, PackageFacts]

    @model_validator(mode="after")
    def _replacements_exist(self) -> "MarketplaceCatalog":
        for key, p in self.packages.items():
            if p.replaced_by and self.packages.get(p.replaced_by, None) is None:
                raise ValueError(f"packages.{key}.replaced_by: unknown package {p.replaced_by!r}")
        return self

    def listed(self, region: str | None = None) -> list[str]:
        return sorted(k for k, p in self.packages.items()
                      if p.status == "listed" and (region is None or region in p.regions))


@lru_cache(maxsize=1)
def packages() -> MarketplaceCatalog:
    return MarketplaceCatalog.model_validate(yaml.safe_load(CATALOG_FILE.read_text()))
