"""The summarizer's model call: ``generate(prompt, params) -> Generation`` over the
shared SageMaker runtime client and the family's codec.

Failures are ``inference.errors`` as the client raises them; the map-reduce
decides what each means (retry, re-split, fail the chunk).
"""

from __future__ import annotations

from typing import Any

from inference.codecs import TEXT_CODECS, Generation
from inference.params import TextParams
from summarizer.errors import InvalidInput
from summarizer.run_config import Generate

_NOT_OPTIONS = ("max_new_tokens", "stop", "return_full_text")


def make_generate(endpoint_name: str, family: str, runtime: Any, inference_component: str | None = None) -> Generate:
    """Bind one model: its endpoint and, on a shared endpoint, its inference component;
    ``runtime`` is an ``inference.runtime.SageMakerRuntime``."""
    codec = TEXT_CODECS.get(family)
    if codec is None:
        raise InvalidInput(f"model family {family!r} has no text codec")

    def generate(prompt: str, params: dict) -> Generation:
        options = {k: v for k, v in params.items() if k not in _NOT_OPTIONS}
        request = codec.build(prompt, TextParams(params["max_new_tokens"], 0, options, tuple(params.get("stop", ()))))
        return codec.parse(runtime.invoke(endpoint_name, request, inference_component))

    return generate
