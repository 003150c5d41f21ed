"""Use cases: raw generation, template runs and images, over an injected invoker.

The invoker is anything with ``invoke(endpoint_name, WireRequest, inference_component)
-> bytes`` (the component: None for a model with its own endpoint); in
production the SageMaker runtime client, in unit tests a plain fake, so the whole
flow is testable without AWS and without mocks.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Protocol, Sequence

from frontdoor.services.batch import Outcome, first_error, run_bounded, workers_for
from inference.catalog import Catalog, ModelSpec
from frontdoor.services.labels import normalize_label
from inference.errors import BadRequest
from inference.params import TGI_FAMILIES, TextParams, check_image_size, resolve_text_params
from inference.codecs import (
    ImageParams,
    StableDiffusionCodec,
    TextCodec,
    WireRequest,
    text_codec,
)
from inference.prompts import prompt_format, strip_stops
from frontdoor.services.templating import TemplateRegistry, render


class Invoker(Protocol):
    def invoke(self, endpoint_name: str, request: WireRequest,
               inference_component: str | None = None) -> bytes: ...


MAX_CANDIDATES = 4
SEED_SPACE = 2**31 - 1  # the request schema's seed range is 0..2**31-1


@dataclass
class Candidate:
    """One of several outputs for one prompt; ``id`` is what feedback ranks."""

    id: str
    output: str
    finish_reason: str | None
    usage: dict[str, Any]
    seed: int | None = None
    label: str | None = None


@dataclass
class TextResult:
    output: str
    model: str
    finish_reason: str | None
    usage: dict[str, Any]
    model_ms: float
    label: str | None = None
    template: str | None = None
    # What was asked, kept with the outputs when generations are stored (services.feedback).
    prompt: str = ""
    inputs: str = ""
    system: str | None = None
    variables: dict[str, str] | None = None
    seed: int | None = None
    candidates: list[Candidate] | None = None


def candidate_id(index: int) -> str:
    """``c0``, ``c1``, ...: an id has a non-digit, so feedback tells it from the index."""
    return f"c{index}"


def sampling_plans(spec: ModelSpec, requested: dict[str, Any], defaults: dict[str, Any] | None, n: int,
                   rand: Callable[[int], int]) -> list[tuple[dict[str, Any], dict[str, Any] | None, int | None]]:
    """(requested, defaults, seed) for each of ``n`` candidates of one prompt.

    One candidate is one ordinary call. Several need sampling with a different seed each:
    the caller's ``seed`` (or a random one) plus 0..n-1, with ``do_sample`` on. A caller who
    asks for greedy decoding (``temperature`` 0 or ``do_sample`` false) would get n copies
    of one output: 422. A template's greedy default yields to sampling. Families without
    ``seed``/``do_sample`` knobs (AI21) sample by temperature alone.
    """
    if n == 1:
        return [(requested, defaults, requested.get("seed"))]
    if requested.get("temperature") == 0 or requested.get("do_sample") is False:
        raise BadRequest(
            f"candidates {n} need sampling, but the parameters ask for greedy decoding (temperature 0 or "
            "do_sample false), which would return the same output each time; drop them or ask for one candidate",
            details=[{"field": "candidates", "type": "needs_sampling"}])
    defaults = {k: v for k, v in (defaults or {}).items()
                if not (k == "do_sample" and v is False) and not (k == "temperature" and v == 0)}
    if spec.family not in TGI_FAMILIES:
        return [(requested, defaults, None) for _ in range(n)]
    base = requested["seed"] if requested.get("seed") is not None else rand(SEED_SPACE)
    seeds = [(base + i) % SEED_SPACE for i in range(n)]
    return [({**requested, "do_sample": True, "seed": seed}, defaults, seed) for seed in seeds]


@dataclass
class ImageResult:
    images: list[str]
    model: str
    width: int
    height: int
    seed: int | None
    model_ms: float
    extra: dict[str, Any] = field(default_factory=dict)


def template_labeler(tpl: Any, values: dict[str, str]) -> Callable[[str], str | None] | None:
    """How a label template (sentiment, classify) turns an output into its label; None for text."""
    labels = tpl.labels_for(values)
    if labels is None:
        return None
    unknown = tpl.output.get("unknown", "unknown")
    return lambda text: normalize_label(text, labels, unknown=unknown)


@dataclass(frozen=True)
class PreparedText:
    """One text generation, checked and ready to send: the model, the exact prompt (family
    format, tag refusal, template rendering) and the parameters (family rules, budget,
    stops). The buffered call (``TextService._complete``) and the token stream
    (``frontdoor.services.token_stream``) both start from it, so they send the same request."""

    spec: ModelSpec
    prompt: str
    params: TextParams
    codec: TextCodec
    template: str | None = None
    label_of: Callable[[str], str | None] | None = None

    def request(self) -> WireRequest:
        return self.codec.build(self.prompt, self.params)

    def usage(self, generated_tokens: int | None) -> dict[str, Any]:
        return {"input_tokens_estimate": self.params.input_tokens_estimate,
                "max_new_tokens": self.params.max_new_tokens, "generated_tokens": generated_tokens}


class TextService:
    def __init__(self, catalog: Catalog, templates: TemplateRegistry, invoker: Invoker,
                 rand: Callable[[int], int] = random.SystemRandom().randrange) -> None:
        self.catalog = catalog
        self.templates = templates
        self.invoker = invoker
        self._rand = rand

    def prepare(self, spec: ModelSpec, prompt: str, requested: dict[str, Any],
                defaults: dict[str, Any] | None) -> PreparedText:
        """Parameters for ``prompt`` on ``spec``: the request's over the template's defaults,
        checked per family (``inference.params``)."""
        return PreparedText(spec, prompt, resolve_text_params(spec, prompt, requested, defaults),
                            text_codec(spec.family))

    def prepare_generate(self, model: str | None, inputs: str, requested: dict[str, Any],
                         system: str | None = None) -> PreparedText:
        """``generate``'s one call, prepared and not sent (the streaming routes send it)."""
        spec = self.catalog.resolve(model, "text")
        return self.prepare(spec, self._generate_prompt(spec, inputs, system), requested, None)

    def prepare_template(self, name: str, model: str | None, variables: dict[str, str],
                         requested: dict[str, Any]) -> PreparedText:
        """``run_template``'s one call, prepared and not sent (the streaming routes send it)."""
        tpl = self.templates.get(name)
        spec = self.catalog.resolve(model, "text")
        prompt, values = render(tpl, variables, prompt_format(spec.family))
        return replace(self.prepare(spec, prompt, requested, tpl.parameters), template=tpl.name,
                       label_of=template_labeler(tpl, values))

    def _complete(self, model_name: str, prompt: str, requested: dict[str, Any],
                  defaults: dict[str, Any] | None) -> TextResult:
        call = self.prepare(self.catalog.resolve(model_name, "text"), prompt, requested, defaults)
        started = time.perf_counter()
        raw = self.invoker.invoke(call.spec.endpoint_name, call.request(), call.spec.inference_component)
        model_ms = (time.perf_counter() - started) * 1000
        generation = call.codec.parse(raw)
        output, stopped = strip_stops(generation.text, call.params.stop)
        finish = "stop_sequence" if stopped else generation.finish_reason
        return TextResult(output=output, model=call.spec.name, finish_reason=finish,
                          usage=call.usage(generation.generated_tokens), model_ms=model_ms, prompt=prompt)

    def _workers(self, spec: ModelSpec, calls: int) -> int:
        """Threads for ``calls`` calls to ``spec``; with more than one, the invoker's client
        (built on first use) is built now, once, rather than by each thread at the same time."""
        workers = workers_for(spec.instance_count, calls)
        if workers > 1:
            getattr(self.invoker, "client", None)
        return workers

    def _sample(self, spec: ModelSpec, prompt: str, requested: dict[str, Any], defaults: dict[str, Any] | None,
                candidates: int | None, labels: Callable[[str], str | None] | None = None) -> TextResult:
        """One call, or ``candidates`` calls at once (in the endpoint's capacity) whose
        outputs come back with ids; the first candidate is also the top-level output."""
        n = candidates or 1
        plans = sampling_plans(spec, requested, defaults, n, self._rand)
        outcomes = run_bounded(lambda plan: self._complete(spec.name, prompt, plan[0], plan[1]), plans,
                               workers=self._workers(spec, n))
        error = first_error(outcomes)
        if error is not None:
            raise error
        results = [o.value for o in outcomes]
        first = results[0]
        first.seed = plans[0][2]
        if labels is not None:
            for result in results:
                result.label = labels(result.output)
        if candidates is not None:
            first.candidates = [
                Candidate(id=candidate_id(i), output=r.output, finish_reason=r.finish_reason, usage=r.usage,
                          seed=plan[2], label=r.label)
                for i, (r, plan) in enumerate(zip(results, plans))]
            first.model_ms = max(r.model_ms for r in results)
            tokens = [r.usage.get("generated_tokens") for r in results]
            # Usage is what the request cost: every candidate's tokens.
            first.usage = {**first.usage, "generated_tokens": sum(tokens) if None not in tokens else None}
        return first

    def sample(self, spec: ModelSpec, prompt: str, requested: dict[str, Any], n: int = 1) -> TextResult:
        """``n`` answers of a prompt already in the model's format (the OpenAI-compatible routes
        render their own: ``inference.chat``), as ``generate`` samples candidates."""
        return self._sample(spec, prompt, requested, None, n if n > 1 else None)

    def _generate_prompt(self, spec: ModelSpec, inputs: str, system: str | None) -> str:
        fmt = prompt_format(spec.family)
        fmt.check(inputs, "inputs")
        if system:
            fmt.check(system, "system")
        return fmt.wrap(inputs, system=system)

    def generate(self, model: str | None, inputs: str, requested: dict[str, Any],
                 system: str | None = None, candidates: int | None = None) -> TextResult:
        spec = self.catalog.resolve(model, "text")
        prompt = self._generate_prompt(spec, inputs, system)
        result = self._sample(spec, prompt, requested, None, candidates)
        result.inputs, result.system = inputs, system
        return result

    def run_template(self, name: str, model: str | None, variables: dict[str, str],
                     requested: dict[str, Any], candidates: int | None = None) -> TextResult:
        tpl = self.templates.get(name)
        spec = self.catalog.resolve(model, "text")
        return self._run_template(tpl, spec, variables, requested, candidates)

    def _run_template(self, tpl: Any, spec: ModelSpec, variables: dict[str, str], requested: dict[str, Any],
                      candidates: int | None = None) -> TextResult:
        prompt, values = render(tpl, variables, prompt_format(spec.family))
        label_of = template_labeler(tpl, values)
        result = self._sample(spec, prompt, requested, tpl.parameters, candidates, label_of)
        result.template = tpl.name
        result.inputs, result.system, result.variables = tpl.body(values), tpl.system, values
        return result

    def generate_batch(self, model: str | None, inputs: Sequence[str], requested: dict[str, Any],
                       system: str | None = None, start_by: float | None = None
                       ) -> tuple[ModelSpec, list[Outcome[TextResult]]]:
        """Each input as its own generation, at once within the endpoint's capacity, in
        input order, each with its own outcome. What all inputs share (the model) is
        resolved first: an unknown model fails the request, not every input."""
        spec = self.catalog.resolve(model, "text")

        def one(text: str) -> TextResult:
            result = self._complete(spec.name, self._generate_prompt(spec, text, system), requested, None)
            result.inputs, result.system = text, system
            return result

        return spec, run_bounded(one, inputs, workers=self._workers(spec, len(inputs)), start_by=start_by)

    def run_template_batch(self, name: str, model: str | None, items: Sequence[dict[str, str]],
                           requested: dict[str, Any], start_by: float | None = None
                           ) -> tuple[ModelSpec, list[Outcome[TextResult]]]:
        """Template ``name`` over several variable sets, as ``generate_batch``."""
        tpl = self.templates.get(name)
        spec = self.catalog.resolve(model, "text")
        return spec, run_bounded(lambda variables: self._run_template(tpl, spec, variables, requested), items,
                                 workers=self._workers(spec, len(items)), start_by=start_by)


class ImageService:
    def __init__(self, catalog: Catalog, invoker: Invoker) -> None:
        self.catalog = catalog
        self.invoker = invoker
        self.codec = StableDiffusionCodec()

    def generate(self, model: str | None, params: ImageParams) -> ImageResult:
        spec = self.catalog.resolve(model, "image")
        check_image_size(params.width, params.height)
        started = time.perf_counter()
        raw = self.invoker.invoke(spec.endpoint_name, self.codec.build(params), spec.inference_component)
        model_ms = (time.perf_counter() - started) * 1000
        images = self.codec.parse(raw)
        return ImageResult(images=images, model=spec.name, width=params.width, height=params.height,
                           seed=params.seed, model_ms=model_ms)
