"""What the CDK app tells the Lambda code (docs/contracts.md), built in one place
so the deployed stack and `make serve` describe the models identically."""

from __future__ import annotations

from stacks.config import AppConfig
from stacks.jumpstart import ResolvedEndpoint, resolve_endpoints


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


def frontdoor_models(
    config: AppConfig, endpoint_names: dict[str, str], resolved: list[ResolvedEndpoint] | None = None
) -> list[dict]:
    """MODELS_JSON entries; `endpoint_names` maps model name -> endpoint name (or a token)."""
    resolved = resolved if resolved is not None else resolve_endpoints(config)
    return [
        {
            "name": r.name,
            "model_id": r.model_id,
            "endpoint_name": endpoint_names[r.name],
            "family": r.family,
            "kind": r.kind,
            "max_input_length": r.max_input_length if r.kind == "text" else None,
            "max_total_tokens": r.max_total_tokens if r.kind == "text" else None,
            "instance_type": r.instance_type,
            "instance_count": r.settings.instance_count,
            "default": r.is_default,
            **_wake_fields(config, r),
        }
        for r in resolved
    ]
