"""Generation parameters: merge template defaults with the request, check per family.

Request models (the front door's) already bound every field to a generic range;
this module adds what depends on the model: its token budget and which knobs its
container understands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inference.errors import BadRequest
from inference.catalog import ModelSpec
from inference.tokens import lower_bound

TGI_FAMILIES = ("falcon", "llama2", "mistral", "flan-t5")
MAX_STOP_SEQUENCES = 4  # TGI's default --max-stop-sequences
DEFAULT_MAX_NEW_TOKENS = 256
# Every generation knob a request or a template may name: the front door's request
# model has one field per name (in this order), templates may set defaults for them.
TEXT_PARAMETERS = ("max_new_tokens", "temperature", "top_p", "top_k", "do_sample",
                   "repetition_penalty", "stop", "seed")

# Knobs each family's container accepts; anything else in a request is a 400.
_SUPPORTED = {
    **{family: set(TEXT_PARAMETERS) for family in TGI_FAMILIES},
    "ai21-j2": {"max_new_tokens", "temperature", "top_p", "stop"},
}


@dataclass(frozen=True)
class TextParams:
    max_new_tokens: int
    input_tokens_estimate: int
    options: dict[str, Any] = field(default_factory=dict)  # everything but max_new_tokens
    stop: tuple[str, ...] = ()


def resolve_text_params(spec: ModelSpec, prompt: str, requested: dict[str, Any],
                        defaults: dict[str, Any] | None = None) -> TextParams:
    """Validate ``requested`` (non-None request fields) over ``defaults`` for ``spec``.

    Unsupported knobs are refused when the caller sent them and silently dropped
    when they come from a template's defaults (templates are family-agnostic).
    """
    supported = _SUPPORTED[spec.family]
    refused = sorted(set(requested) - supported)
    if refused:
        raise BadRequest(f"parameters {refused} are not supported by {spec.family} models",
                         details=[{"field": f"parameters.{name}", "type": "unsupported"} for name in refused])
    merged = {k: v for k, v in (defaults or {}).items() if k in supported}
    merged.update(requested)

    stop = tuple(merged.pop("stop", None) or ())
    if len(stop) > MAX_STOP_SEQUENCES:
        raise BadRequest(f"at most {MAX_STOP_SEQUENCES} stop sequences are allowed, got {len(stop)}")
    if any(not s for s in stop):
        raise BadRequest("stop sequences must not be empty")

    temperature = merged.get("temperature")
    if spec.family in TGI_FAMILIES and temperature == 0:
        # TGI refuses temperature 0; callers mean greedy decoding, so say that instead.
        merged.pop("temperature")
        merged["do_sample"] = False
    if spec.family == "ai21-j2" and temperature is not None and temperature > 1:
        raise BadRequest("temperature must be within 0..1 for ai21-j2 models")

    estimate = lower_bound(prompt)
    assert spec.max_total_tokens is not None and spec.max_input_length is not None
    budget = spec.max_total_tokens - estimate
    explicit = requested.get("max_new_tokens")
    wanted = merged.pop("max_new_tokens", None) or DEFAULT_MAX_NEW_TOKENS
    if estimate > spec.max_input_length:
        # Clearly too long; let the model answer with its exact count (422 passthrough).
        max_new = wanted
    elif explicit is not None:
        if explicit > budget:
            raise BadRequest(
                f"max_new_tokens {explicit} exceeds the budget of model {spec.name!r}: "
                f"max_total_tokens {spec.max_total_tokens} minus about {estimate} input tokens leaves {budget}",
                details=[{"field": "parameters.max_new_tokens", "type": "budget", "max": budget}],
            )
        max_new = explicit
    else:
        # A template's or our default must not overflow a small model: clamp it.
        max_new = max(1, min(wanted, budget))
    return TextParams(max_new_tokens=max_new, input_tokens_estimate=estimate, options=merged, stop=stop)


IMAGE_MIN_SIDE, IMAGE_MAX_SIDE = 256, 1024
IMAGE_SIDE_STEP = 8  # width and height are multiples of it


def check_image_size(width: int, height: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if value % IMAGE_SIDE_STEP or not IMAGE_MIN_SIDE <= value <= IMAGE_MAX_SIDE:
            raise BadRequest(f"{name} must be a multiple of {IMAGE_SIDE_STEP} within "
                             f"{IMAGE_MIN_SIDE}..{IMAGE_MAX_SIDE}, got {value}",
                             details=[{"field": name, "type": "image_size"}])
