"""A deployment config, read for the local stack as the Api stack reads it: the front
door's MODELS_JSON and feedback environment, and the emulator's endpoints for them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inference.embeddings import embedding_model

from local.emulator.models import EndpointConfig

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config" / "default.yaml"


class _LocalEndpointNames(dict):
    """Endpoint names for ``frontdoor_models``: any model key maps to ``local-<key>``."""

    def __missing__(self, key: str) -> str:
        return f"local-{key}"


def models_from_config(path: str | Path = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    """MODELS_JSON entries for a deployment config, exactly as the Api stack builds them."""
    from stacks.config import load_config
    from stacks.contract.lambda_env import frontdoor_models

    cfg = load_config(str(path))
    names = _LocalEndpointNames()
    for endpoint in getattr(cfg, "endpoints", []):
        key = getattr(endpoint, "name", None) or getattr(endpoint, "model_id", None)
        if key:
            names[key] = f"local-{key}"
    return frontdoor_models(cfg, names)


def feedback_env_from_config(path: str | Path = DEFAULT_CONFIG) -> dict[str, str]:
    """The front door's feedback-loop environment (`api.feedback`), as the Api stack sets it."""
    from stacks.config import load_config
    from stacks.contract.lambda_env import feedback_env

    return feedback_env(load_config(str(path)).api)


def emulator_endpoints(models: list[dict[str, Any]], first_token_ms: float = 0.0,
                       per_token_ms: float = 0.0, *, ic_copies: int = 1,
                       scale_out_after_s: float | None = None) -> list[EndpointConfig]:
    """The emulator's models for MODELS_JSON: an endpoint per model with its own, and,
    for models with an ``inference_component``, their shared endpoint with one IC each
    (``ic_copies`` copies; ``scale_out_after_s``: a copy runs that long after a call met
    none, as the NoCapacityInvocationFailures alarm and step scaling policy do it)."""
    endpoints = []
    for m in models:
        limits = {}
        if m.get("max_input_length") and m.get("max_total_tokens"):
            limits = {"max_input_length": m["max_input_length"], "max_total_tokens": m["max_total_tokens"]}
        embedding = embedding_model(m.get("model_id", ""))
        if embedding is not None:  # the model's vector length and per-input token limit
            limits = {"max_input_length": embedding.max_input_tokens, "dimensions": embedding.dimensions}
        component = {}
        if m.get("inference_component"):
            component = {"inference_component": m["inference_component"], "copies": ic_copies,
                         "scale_out_after_s": scale_out_after_s}
        endpoints.append(EndpointConfig(m["endpoint_name"], m["family"], first_token_ms=first_token_ms,
                                        per_token_ms=per_token_ms, **limits, **component))
    return endpoints
