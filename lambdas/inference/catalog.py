"""The configured models (MODELS_JSON, see docs/contracts.md) and how clients pick one.

Clients name a model, never an endpoint: the endpoint name stays server-side, and so
does the inference component of a model on a shared endpoint.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, fields
from typing import Any

from inference.errors import BadRequest, ConfigError, NotFound, json_list

# What a model makes; a route asks for one of them.
KINDS = ("text", "image", "embedding")
# family -> kind; the single source of truth for which families exist.
FAMILY_KINDS: dict[str, str] = {
    "falcon": "text",
    "llama2": "text",
    "mistral": "text",
    "flan-t5": "text",
    "ai21-j2": "text",
    "stable-diffusion": "image",
    # JumpStart's sentence-similarity models on the Hugging Face inference container
    # (inference.embeddings): {"text_inputs": [...]} -> {"embedding": [[...], ...]}.
    "hf-embedding": "embedding",
}


# The models the current request may name (None: all). The front door sets it from the
# caller's tenant tier (frontdoor.tenancy); a model outside it does not exist for the caller.
VISIBLE: ContextVar[frozenset[str] | None] = ContextVar("visible_models", default=None)

# Server-side only: clients name models, never endpoints.
_PRIVATE = frozenset({"endpoint_name", "inference_component", "wakeable", "endpoint_config_parameter"})


@dataclass(frozen=True)
class ModelSpec:
    name: str
    model_id: str
    endpoint_name: str
    family: str
    kind: str
    max_input_length: int | None
    max_total_tokens: int | None
    instance_type: str | None
    instance_count: int | None
    default: bool
    # Sleep-enabled models: the endpoint may be deleted and is recreated on demand.
    wakeable: bool = False
    endpoint_config_parameter: str | None = None
    # Models on a shared endpoint: the inference component (IC) that hosts the model's
    # copies; ``endpoint_name`` is then the shared endpoint's, and every call names both.
    inference_component: str | None = None

    def public(self) -> dict[str, Any]:
        """What GET /v1/models shows: everything but where the model runs and how it wakes."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _PRIVATE}


def _opt_int(entry: dict[str, Any], key: str, where: str) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where}.{key} must be a positive integer or null, got {value!r}")
    return value


def _parse_entry(entry: Any, index: int) -> ModelSpec:
    where = f"MODELS_JSON[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be an object")
    for key in ("name", "model_id", "endpoint_name", "family", "kind"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise ConfigError(f"{where}.{key} must be a non-empty string")
    family, kind = entry["family"], entry["kind"]
    if family not in FAMILY_KINDS:
        raise ConfigError(f"{where}.family {family!r} is not one of {sorted(FAMILY_KINDS)}")
    if FAMILY_KINDS[family] != kind:
        raise ConfigError(f"{where}.kind must be {FAMILY_KINDS[family]!r} for family {family!r}, got {kind!r}")
    spec = ModelSpec(
        name=entry["name"],
        model_id=entry["model_id"],
        endpoint_name=entry["endpoint_name"],
        family=family,
        kind=kind,
        max_input_length=_opt_int(entry, "max_input_length", where),
        max_total_tokens=_opt_int(entry, "max_total_tokens", where),
        instance_type=entry.get("instance_type"),
        instance_count=_opt_int(entry, "instance_count", where),
        default=bool(entry.get("default", False)),
        wakeable=entry.get("wakeable", False) is True,
        endpoint_config_parameter=entry.get("endpoint_config_parameter"),
        inference_component=entry.get("inference_component"),
    )
    if spec.inference_component is not None and not (
            isinstance(spec.inference_component, str) and spec.inference_component):
        raise ConfigError(f"{where}.inference_component must be a non-empty string (the inference component's "
                          f"name) or absent, got {entry['inference_component']!r}")
    if not isinstance(entry.get("wakeable", False), bool):
        raise ConfigError(f"{where}.wakeable must be true or false, got {entry['wakeable']!r}")
    if spec.wakeable and not (isinstance(spec.endpoint_config_parameter, str) and spec.endpoint_config_parameter):
        raise ConfigError(f"{where}.endpoint_config_parameter must be a non-empty string when wakeable is true")
    if spec.wakeable and spec.inference_component:
        raise ConfigError(f"{where}.wakeable must be false for a model with an inference_component: a shared "
                          "endpoint is never deleted to sleep, its copies scale to zero instead")
    if kind == "embedding" and spec.max_input_length is None:
        raise ConfigError(f"{where}: embedding models need max_input_length (the tokens one input may have)")
    if kind == "text" and (spec.max_input_length is None or spec.max_total_tokens is None):
        raise ConfigError(f"{where}: text models need max_input_length and max_total_tokens")
    if kind == "text" and spec.max_input_length >= spec.max_total_tokens:  # type: ignore[operator]
        raise ConfigError(f"{where}: max_input_length must be below max_total_tokens")
    return spec


def _check_shared_endpoints(models: list[ModelSpec]) -> None:
    """An endpoint hosts inference components or it does not (SageMaker refuses the
    InferenceComponentName header on the one and requires it on the other), and an
    inference component hosts one model."""
    by_endpoint: dict[str, list[ModelSpec]] = {}
    for m in models:
        by_endpoint.setdefault(m.endpoint_name, []).append(m)
    for endpoint, hosted in by_endpoint.items():
        with_ic = [m.name for m in hosted if m.inference_component]
        if with_ic and len(with_ic) != len(hosted):
            without = [m.name for m in hosted if not m.inference_component]
            raise ConfigError(f"MODELS_JSON: models {with_ic} run as inference components on endpoint {endpoint!r}, "
                              f"so every model on it needs an inference_component; {without} have none")
    components: dict[str, str] = {}
    for m in models:
        if m.inference_component:
            if m.inference_component in components:
                raise ConfigError(f"MODELS_JSON: inference_component {m.inference_component!r} is given to both "
                                  f"{components[m.inference_component]!r} and {m.name!r}; each model needs its own")
            components[m.inference_component] = m.name


class Catalog:
    """Immutable lookup of configured models by name and by kind."""

    def __init__(self, models: list[ModelSpec]) -> None:
        self.models: tuple[ModelSpec, ...] = tuple(models)
        self._by_name = {m.name: m for m in models}
        if len(self._by_name) != len(models):
            raise ConfigError("MODELS_JSON: model names must be unique")
        _check_shared_endpoints(models)
        for kind in KINDS:
            defaults = [m.name for m in models if m.kind == kind and m.default]
            if len(defaults) > 1:
                raise ConfigError(f"MODELS_JSON: more than one default {kind} model: {defaults}")

    @classmethod
    def from_json(cls, raw: str) -> Catalog:
        return cls([_parse_entry(entry, i) for i, entry in enumerate(json_list(raw, "MODELS_JSON"))])

    def resolve(self, name: str | None, kind: str) -> ModelSpec:
        """Find the model a request means; ``None`` picks the default of ``kind``.

        Without an explicit default, a kind with exactly one model uses it, so a
        one-model deployment needs no ``default: true``.
        """
        if name is None:
            visible = VISIBLE.get()
            candidates = [m for m in self.models if m.kind == kind and (visible is None or m.name in visible)]
            chosen = [m for m in candidates if m.default] or (candidates if len(candidates) == 1 else [])
            if not chosen:
                raise BadRequest(f"no default {kind} model is configured; name one in 'model'")
            return chosen[0]
        visible = VISIBLE.get()
        spec = self._by_name.get(name) if visible is None or name in visible else None
        if spec is None:
            raise NotFound(f"unknown model {name!r}; GET /v1/models lists the configured models",
                           details=[{"field": "model", "type": "not_found"}])
        if spec.kind != kind:
            raise BadRequest(f"model {name!r} is a {spec.kind} model; this route needs a {kind} model")
        return spec
