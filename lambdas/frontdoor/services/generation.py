"""Use cases: raw generation, template runs and images, over an injected invoker.

The invoker is anything with ``invoke(endpoint_name, WireRequest) -> bytes``; in
production the SageMaker runtime client, in unit tests a plain fake, so the whole
flow is testable without AWS and without mocks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from inference.catalog import Catalog
from frontdoor.services.labels import normalize_label
from inference.params import check_image_size, resolve_text_params
from inference.codecs import (
    ImageParams,
    StableDiffusionCodec,
    WireRequest,
    text_codec,
)
from inference.prompts import prompt_format, strip_stops
from frontdoor.services.templating import TemplateRegistry, render


class Invoker(Protocol):
    def invoke(self, endpoint_name: str, request: WireRequest) -> bytes: ...


@dataclass
class TextResult:
    output: str
    model: str
    finish_reason: str | None
    usage: dict[str, Any]
    model_ms: float
    label: str | None = None
    template: str | None = None


@dataclass
class ImageResult:
    images: list[str]
    model: str
    width: int
    height: int
    seed: int | None
    model_ms: float
    extra: dict[str, Any] = field(default_factory=dict)


class TextService:
    def __init__(self, catalog: Catalog, templates: TemplateRegistry, invoker: Invoker) -> None:
        self.catalog = catalog
        self.templates = templates
        self.invoker = invoker

    def _complete(self, model_name: str, prompt: str, requested: dict[str, Any],
                  defaults: dict[str, Any] | None) -> TextResult:
        spec = self.catalog.resolve(model_name, "text")
        params = resolve_text_params(spec, prompt, requested, defaults)
        codec = text_codec(spec.family)
        started = time.perf_counter()
        raw = self.invoker.invoke(spec.endpoint_name, codec.build(prompt, params))
        model_ms = (time.perf_counter() - started) * 1000
        generation = codec.parse(raw)
        output, stopped = strip_stops(generation.text, params.stop)
        finish = "stop_sequence" if stopped else generation.finish_reason
        usage = {
            "input_tokens_estimate": params.input_tokens_estimate,
            "max_new_tokens": params.max_new_tokens,
            "generated_tokens": generation.generated_tokens,
        }
        return TextResult(output=output, model=spec.name, finish_reason=finish, usage=usage, model_ms=model_ms)

    def generate(self, model: str | None, inputs: str, requested: dict[str, Any],
                 system: str | None = None) -> TextResult:
        spec = self.catalog.resolve(model, "text")
        fmt = prompt_format(spec.family)
        fmt.check(inputs, "inputs")
        if system:
            fmt.check(system, "system")
        prompt = fmt.wrap(inputs, system=system)
        return self._complete(spec.name, prompt, requested, None)

    def run_template(self, name: str, model: str | None, variables: dict[str, str],
                     requested: dict[str, Any]) -> TextResult:
        tpl = self.templates.get(name)
        spec = self.catalog.resolve(model, "text")
        prompt, values = render(tpl, variables, prompt_format(spec.family))
        result = self._complete(spec.name, prompt, requested, tpl.parameters)
        result.template = tpl.name
        labels = tpl.labels_for(values)
        if labels is not None:
            result.label = normalize_label(result.output, labels, unknown=tpl.output.get("unknown", "unknown"))
        return result


class ImageService:
    def __init__(self, catalog: Catalog, invoker: Invoker) -> None:
        self.catalog = catalog
        self.invoker = invoker
        self.codec = StableDiffusionCodec()

    def generate(self, model: str | None, params: ImageParams) -> ImageResult:
        spec = self.catalog.resolve(model, "image")
        check_image_size(params.width, params.height)
        started = time.perf_counter()
        raw = self.invoker.invoke(spec.endpoint_name, self.codec.build(params))
        model_ms = (time.perf_counter() - started) * 1000
        images = self.codec.parse(raw)
        return ImageResult(images=images, model=spec.name, width=params.width, height=params.height,
                           seed=params.seed, model_ms=model_ms)
