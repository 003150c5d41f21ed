"""Pinned facts the app validates against: instances (GPUs, memory, NVMe, price)
and the project's own per-model facts (family, kind, size).

Loaded once from config/catalog/*.yaml; immutable afterwards.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

CATALOG_DIR = Path(__file__).resolve().parents[2] / "config" / "catalog"
GIB = 1024**3

Family = Literal["falcon", "llama2", "mistral", "flan-t5", "stable-diffusion", "ai21-j2"]
Kind = Literal["text", "image"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InstanceFacts(_Frozen):
    gpus: int = Field(gt=0)
    gpu: str
    gpu_memory_gib: float = Field(gt=0, description="per GPU")
    vcpus: int = Field(gt=0)
    memory_gib: float = Field(gt=0, description="host memory; what inference components reserve comes from it")
    local_nvme: bool = Field(description="instance store volumes: endpoint configs must omit KmsKeyId")
    usd_per_hour: float = Field(gt=0)

    @property
    def total_gpu_memory_gib(self) -> float:
        return self.gpus * self.gpu_memory_gib


class InstanceCatalog(_Frozen):
    source: str
    pinned: str
    price_region: str
    instances: dict[str, InstanceFacts]


class ModelFacts(_Frozen):
    short_name: str
    family: Family
    kind: Kind
    parameters_billion: float = Field(gt=0)
    bytes_per_parameter: int = Field(gt=0)

    @property
    def weights_gib(self) -> float:
        return self.parameters_billion * 1e9 * self.bytes_per_parameter / GIB


class ModelCatalog(_Frozen):
    memory_headroom: float = Field(ge=1.0)
    models: dict[str, ModelFacts]


@lru_cache(maxsize=1)
def instances() -> InstanceCatalog:
    return InstanceCatalog.model_validate(yaml.safe_load((CATALOG_DIR / "instances.yaml").read_text()))


@lru_cache(maxsize=1)
def models() -> ModelCatalog:
    return ModelCatalog.model_validate(yaml.safe_load((CATALOG_DIR / "models.yaml").read_text()))


HOURS_PER_MONTH = 730  # AWS pricing convention


def usd(value: float, decimals: int = 2) -> str:
    """Dollars for people: half-up on the decimal text, so $1.515/h is "$1.52", not
    binary float's "$1.51"."""
    exact = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"${exact:,.{decimals}f}"

