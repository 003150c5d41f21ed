"""What the CDK app tells the Lambda code (docs/contracts.md), built in one place
so the deployed stack and `make serve` describe the models identically."""

from __future__ import annotations

import json

from stacks.config import ApiConfig, AppConfig, ConfigError, catalog
from stacks.models.jumpstart import ResolvedEndpoint, resolve_endpoints
from stacks.models.shared_endpoints import (
    ResolvedComponent,
    ResolvedSharedEndpoint,
    check_models,
    resolve_shared_endpoints,
)


def wake_parameter_name(project_name: str, model_name: str) -> str:
    """The SSM parameter holding a sleep-enabled model's current endpoint config name.

    Read at wake time rather than baked into the front door's environment: the
    endpoint config is replaced on every change, and the Api stack, whose template
    does not change then, would keep the old name, of a config CloudFormation deletes.
    """
    return f"/{project_name}/endpoints/{model_name}/endpoint-config-name"


def _wake_fields(config: AppConfig, r: ResolvedEndpoint) -> dict:
    if r.settings.sleep is None:
        return {}
    return {"wakeable": True, "endpoint_config_parameter": wake_parameter_name(config.project_name, r.name)}


def _model_fields(
    m: ResolvedEndpoint | ResolvedComponent, endpoint_name: str, instance_type: str, instance_count: int
) -> dict:
    """The MODELS_JSON fields every model has, in their serialized order (a model with its
    own endpoint, or an inference component on a shared one: `instance_*` then describe the
    shared endpoint at most). `max_input_length` is TGI's MAX_INPUT_LENGTH for a text model
    and, for an embedding model, the tokens one input may have (config/catalog/models.yaml)."""
    text = m.kind == "text"
    if text:
        max_input_length = m.max_input_length
    elif m.kind == "embedding":
        max_input_length = catalog.models().models[m.model_id].max_input_tokens
    else:
        max_input_length = None
    return {
        "name": m.name,
        "model_id": m.model_id,
        "endpoint_name": endpoint_name,
        "family": m.family,
        "kind": m.kind,
        "max_input_length": max_input_length,
        "max_total_tokens": m.max_total_tokens if text else None,
        "instance_type": instance_type,
        "instance_count": instance_count,
        "default": m.is_default,
    }


def frontdoor_models(
    config: AppConfig,
    endpoint_names: dict[str, str],
    resolved: list[ResolvedEndpoint] | None = None,
    shared: list[ResolvedSharedEndpoint] | None = None,
) -> list[dict]:
    """MODELS_JSON entries; `endpoint_names` maps model name -> endpoint name (or a token)
    for models with their own endpoint, and shared endpoint name (config `shared_endpoints[].name`)
    -> endpoint name for the models on a shared endpoint."""
    resolved = resolved if resolved is not None else resolve_endpoints(config)
    shared = shared if shared is not None else resolve_shared_endpoints(config)
    check_models(resolved, shared)
    return [
        {
            **_model_fields(r, endpoint_names[r.name], r.instance_type, r.settings.instance_count),
            **_wake_fields(config, r),
        }
        for r in resolved
    ] + [
        # A model on a shared endpoint: called with the endpoint's name plus its inference
        # component's (InvokeEndpoint InferenceComponentName); it scales to zero copies
        # natively instead of sleeping. instance_* describe the shared endpoint at most.
        {
            **_model_fields(c, endpoint_names[s.name], s.instance_type, s.max_instances),
            "inference_component": c.component_name,
        }
        for s in shared
        for c in s.components
    ]


# Lambda caps a function's whole environment at 4 KB; MODELS_JSON and the table,
# queue and bucket names need the rest.
MAX_EXTRA_TEMPLATES_BYTES = 2048


def validate_extra_templates(templates: list[dict]) -> str | None:
    """Refuse at synth what the front door would refuse at cold start, with the
    front door's own validator (pure code, no AWS), and return EXTRA_TEMPLATES_JSON.

    A template the Lambda rejects would otherwise deploy cleanly and then fail
    every request with a 5xx.
    """
    if not templates:
        return None
    encoded = json.dumps(templates, separators=(",", ":"))
    if len(encoded.encode()) > MAX_EXTRA_TEMPLATES_BYTES:
        raise ConfigError(
            "api.extra_templates",
            f"{len(encoded.encode())} bytes as JSON; at most {MAX_EXTRA_TEMPLATES_BYTES} fit in the "
            "front door's environment (Lambda allows 4 KB in all)",
        )
    # The one import of Lambda code in the app. lambdas/ is on the venv's import path
    # (`make setup` writes its .pth), so its packages import as the runtime and pytest see
    # them; imported only when there are templates to check.
    from frontdoor.services import templating

    try:
        templating.TemplateRegistry.load(encoded)
    except templating.ConfigError as exc:  # whatever error type the validator raises
        raise ConfigError("api.extra_templates", str(exc).removeprefix("EXTRA_TEMPLATES_JSON ")) from None
    return encoded


def feedback_env(api: ApiConfig) -> dict[str, str]:
    """What the front door needs to store generations for the feedback loop
    (`api.feedback`); nothing when storing is off (the default: it is user data)."""
    if not api.feedback.store_generations:
        return {}
    return {"FEEDBACK_STORE_GENERATIONS": "true", "FEEDBACK_RETENTION_DAYS": str(api.feedback.retention_days)}
