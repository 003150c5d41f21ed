"""Shared by the embedding tests: the pinned embedding model and its MODELS_JSON entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BGE = "huggingface-sentencesimilarity-bge-base-en-v1-5"
CATALOG_YAML = Path(__file__).resolve().parents[2] / "config" / "catalog" / "models.yaml"


def bge_entry(**changes: Any) -> dict[str, Any]:
    """bge-base-en-v1.5's MODELS_JSON entry as the Api stack writes it for a classic endpoint."""
    entry = {"name": "bge-base-en-v1-5", "model_id": BGE, "endpoint_name": "ep-bge", "family": "hf-embedding",
             "kind": "embedding", "max_input_length": 512, "max_total_tokens": None,
             "instance_type": "ml.c6i.xlarge", "instance_count": 1, "default": False}
    return {**entry, **changes}
