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
from pydantic import BaseModel, ConfigDict, Field, model_validator

CATALOG_DIR = Path(__file__).resolve().parents[2] / "config" / "catalog"
GIB = 1024**3

Family = Literal["falcon", "llama2", "mistral", "flan-t5", "stable-diffusion", "ai21-j2", "hf-embedding"]
Kind = Literal["text", "image", "embedding"]
# What a model makes, in the order the app lists them (one default model per kind).
KINDS: tuple[str, ...] = ("text", "image", "embedding")
# On an instance without GPUs the weights live in host memory, next to the OS, the model
# server and its Python worker: this much of the host memory is not the model's.
HOST_RESERVE_GIB = 2.0


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InstanceFacts(_Frozen):
    gpus: int = Field(ge=0, description="0: a CPU-only instance (models that run on CPU, e.g. embeddings)")
    gpu: str | None = Field(description="GPU model; null without GPUs")
    gpu_memory_gib: float = Field(ge=0, description="per GPU")
    vcpus: int = Field(gt=0)
    memory_gib: float = Field(gt=0, description="host memory; what inference components reserve comes from it")
    local_nvme: bool = Field(description="instance store volumes: endpoint configs must omit KmsKeyId")
    usd_per_hour: float = Field(gt=0)

    @property
    def total_gpu_memory_gib(self) -> float:
        return self.gpus * self.gpu_memory_gib

    @property
    def model_memory_gib(self) -> float:
        """Memory a model's weights may fill: all GPU memory, or on a CPU-only instance its
        host memory less HOST_RESERVE_GIB."""
        return self.total_gpu_memory_gib if self.gpus else max(0.0, self.memory_gib - HOST_RESERVE_GIB)

    @property
    def memory_kind(self) -> str:
        return "GPU memory" if self.gpus else "host memory"

    @property
    def hardware(self) -> str:
        """`1 x A10G 24 GiB`, or `4 vCPUs, 8 GiB, no GPU`."""
        if self.gpus:
            return f"{self.gpus} x {self.gpu} {self.gpu_memory_gib:g} GiB"
        return f"{self.vcpus} vCPUs, {self.memory_gib:g} GiB, no GPU"


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
    # Embedding models: the vector's length and the tokens one input may have (the
    # model's position embeddings); the front door's MODELS_JSON carries the latter.
    dimensions: int | None = Field(None, gt=0)
    max_input_tokens: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _embedding_facts(self) -> "ModelFacts":
        if (self.kind == "embedding") != (self.dimensions is not None and self.max_input_tokens is not None):
            raise ValueError("dimensions and max_input_tokens are required for embedding models and only for them")
        return self

    @property
    def precision(self) -> str:
        """What the weights are stored as: `bf16` (2 bytes) for the LLMs, `fp32` for the embedding model."""
        return {1: "int8", 2: "bf16", 4: "fp32"}.get(self.bytes_per_parameter, f"{self.bytes_per_parameter}-byte")

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

