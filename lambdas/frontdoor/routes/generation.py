"""Text generation routes: raw generation, named templates, and both in batches."""

from __future__ import annotations

import time
from typing import Annotated, Any, Callable, Sequence

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.metrics import MetricUnit

from frontdoor import context, tenancy
from frontdoor.config import runtime
from frontdoor.errors import INTERNAL_ERROR_MESSAGE, error_body, status_of
from frontdoor.models.generation import (
    BatchGenerateRequest,
    BatchItemResult,
    BatchResponse,
    BatchTemplateRequest,
    CandidateOutput,
    GenerateRequest,
    GenerateResponse,
    TemplateRunRequest,
    TemplateRunResponse,
    Usage,
)
from frontdoor.models.responses import ErrorResponse, responses
from frontdoor.services.batch import Outcome
from frontdoor.services.feedback import build_generation_record
from frontdoor.services.generation import PreparedText, TextResult, candidate_id
from frontdoor.services.templating import MAX_TEMPLATE_NAME_CHARS, TEMPLATE_NAME_PATTERN
from inference.catalog import ModelSpec
from inference.control import wake_if_asleep
from inference.errors import InferenceError
from inference.observability import logger, metrics
from inference.runtime import READ_TIMEOUT_S

router = Router()
# The generation routes' statuses (the streaming routes answer the same before their first token).
TEXT_ERRORS = (400, 404, 413, 415, 422, 502, 503, 504)
# A batch answers 200 with each input's own status; the request itself fails only when
# it is invalid, or names a model or template that does not exist or cannot take it.
_BATCH_ERRORS = (400, 404, 413, 415, 422, 503)
TemplateName = Annotated[str, Path(min_length=1, max_length=MAX_TEMPLATE_NAME_CHARS,
                                   pattern=TEMPLATE_NAME_PATTERN)]
# Time left for a batch input to start: its call may take READ_TIMEOUT_S (and retries),
# and the function must answer before its own timeout (28 s deployed).
BATCH_MARGIN_S = 3.0


def _reserve(prepare: Callable[[], PreparedText], candidates: int | None, per_input: bool = False) -> int:
    """The most a call can charge a tenant's token budget, from the call as it will be sent: its
    prompt (template text included) and every answer's max_new_tokens (a template's default
    included). A call that cannot be prepared fails as the route would (422); one input of a
    batch that cannot is that input's failure alone, and costs nothing."""
    try:
        call = prepare()
    except InferenceError:
        if not per_input:
            raise
        return 0
    return call.params.input_tokens_estimate + (candidates or 1) * call.params.max_new_tokens


def _record(model: str, model_ms: float) -> None:
    context.model_ms.set(model_ms)
    metrics.add_metric(name="ModelLatency", unit=MetricUnit.Milliseconds, value=model_ms)
    metrics.add_metadata(key="model", value=model)


def _candidates(result: TextResult) -> list[CandidateOutput] | None:
    if result.candidates is None:
        return None
    return [CandidateOutput(id=c.id, output=c.output, finish_reason=c.finish_reason, usage=Usage(**c.usage),
                            seed=c.seed, label=c.label) for c in result.candidates]


def _store(result: TextResult, route: str, requested: dict[str, Any]) -> None:
    """Keep the prompt and outputs for feedback to join, when this deployment stores
    generations (user data; off by default). A failure to store never fails the answer,
    which already cost GPU time: it is logged and counted."""
    rt = runtime()
    if not rt.env.store_generations or rt.feedback is None:
        return
    outputs = result.candidates or []
    candidates = [{"id": c.id, "output": c.output, "seed": c.seed, "finish_reason": c.finish_reason,
                   "generated_tokens": c.usage.get("generated_tokens"), "label": c.label} for c in outputs] or [
        {"id": candidate_id(0), "output": result.output, "seed": result.seed, "finish_reason": result.finish_reason,
         "generated_tokens": result.usage.get("generated_tokens"), "label": result.label}]
    record = build_generation_record(
        context.request_id.get(), route=route, model=result.model, prompt=result.prompt, inputs=result.inputs,
        system=result.system, template=result.template, variables=result.variables, parameters=requested,
        candidates=candidates, retention_days=rt.env.retention_days)
    try:
        if record is None:
            raise ValueError("the generation is larger than a DynamoDB item")
        rt.feedback.put(record)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        logger.warning("generation not stored", extra={"reason": f"{type(exc).__name__}: {exc}"})
        metrics.add_metric(name="GenerationNotStored", unit=MetricUnit.Count, value=1)


@router.post("/v1/generate", tags=["generation"], summary="Generate text",
             responses=responses({200: (GenerateResponse, "The generated text")}, *TEXT_ERRORS))
def generate(body: GenerateRequest) -> GenerateResponse:
    """Send ``inputs`` (wrapped in the model family's prompt format) to a text model.

    Parameters are validated per family: ranges, at most 4 stop sequences and
    ``max_new_tokens`` within the model's token budget. Stop strings are removed
    from the output. ``candidates`` returns several sampled outputs with ids, for
    ``POST /v1/feedback`` to rank.
    """
    requested = body.parameters.given()
    text = runtime().text
    result = tenancy.charged(
        router.current_event.raw_event,
        _reserve(lambda: text.prepare_generate(body.model, body.inputs, requested, system=body.system),
                 body.candidates),
        lambda: runtime().text.generate(body.model, body.inputs, requested, system=body.system,
                                        candidates=body.candidates),
        lambda r: (r.model, r.usage))
    _record(result.model, result.model_ms)
    _store(result, "generate", requested)
    return GenerateResponse(output=result.output, model=result.model, finish_reason=result.finish_reason,
                            usage=Usage(**result.usage), candidates=_candidates(result))


@router.post("/v1/templates/<name>", tags=["generation"], summary="Run a prompt template",
             responses=responses({200: (TemplateRunResponse, "The generated text")}, *TEXT_ERRORS))
def run_template(name: TemplateName, body: TemplateRunRequest) -> TemplateRunResponse:
    """Render template ``name`` with ``variables`` and send it to a text model.

    Sentiment and classification templates also return a normalized ``label``.
    ``candidates`` returns several sampled outputs with ids, for ``POST /v1/feedback``.
    """
    requested = body.parameters.given()
    text = runtime().text
    result = tenancy.charged(
        router.current_event.raw_event,
        _reserve(lambda: text.prepare_template(name, body.model, body.variables, requested), body.candidates),
        lambda: runtime().text.run_template(name, body.model, body.variables, requested, candidates=body.candidates),
        lambda r: (r.model, r.usage))
    _record(result.model, result.model_ms)
    _store(result, "template", requested)
    return TemplateRunResponse(output=result.output, model=result.model, finish_reason=result.finish_reason,
                               usage=Usage(**result.usage), template=name, label=result.label,
                               candidates=_candidates(result))


def _start_by(started: float) -> float:
    """The latest time a batch input may start and still finish within the function's timeout."""
    try:
        remaining = router.lambda_context.get_remaining_time_in_millis() / 1000
    except AttributeError:  # no Lambda context (unit tests)
        remaining = 28.0
    return started + max(0.0, remaining - READ_TIMEOUT_S - BATCH_MARGIN_S)


def _item(index: int, outcome: Outcome[TextResult]) -> BatchItemResult:
    if outcome.value is not None:
        r = outcome.value
        return BatchItemResult(index=index, status=200, output=r.output, finish_reason=r.finish_reason,
                               usage=Usage(**r.usage), label=r.label)
    exc = outcome.error
    if isinstance(exc, InferenceError):
        status, code, message, details, retry_after = status_of(exc), exc.code, exc.message, exc.details, exc.retry_after
        logger.warning("batch input failed", extra={"index": index, "error": code, "status": status,
                                                     "reason": message})
    else:
        status, code, details, retry_after = 500, "internal_error", None, None
        message = INTERNAL_ERROR_MESSAGE
        logger.error("batch input failed unexpectedly", exc_info=exc, extra={"index": index})
    return BatchItemResult(index=index, status=status, error=ErrorResponse(**error_body(code, message, details)),
                           retry_after=retry_after)


def _batch_usage(answer: tuple[ModelSpec, Sequence[Outcome[TextResult]]]) -> tuple[str, dict[str, Any]]:
    """What a batch charges its tenant: the answered inputs' tokens (a failed input is given back)."""
    spec, outcomes = answer
    done = [o.value.usage for o in outcomes if o.value is not None]
    generated = [u.get("generated_tokens") for u in done]
    return spec.name, {"input_tokens_estimate": sum(u["input_tokens_estimate"] for u in done),
                       "generated_tokens": None if None in generated else sum(generated)}


def _batch(spec: ModelSpec, template: str | None, outcomes: Sequence[Outcome[TextResult]]) -> BatchResponse:
    results = [_item(i, o) for i, o in enumerate(outcomes)]
    done = [o.value for o in outcomes if o.value is not None]
    for r in done:
        metrics.add_metric(name="ModelLatency", unit=MetricUnit.Milliseconds, value=r.model_ms)
    if done:
        context.model_ms.set(max(r.model_ms for r in done))
    succeeded = sum(1 for r in results if r.status == 200)
    return BatchResponse(model=spec.name, template=template, succeeded=succeeded, failed=len(results) - succeeded,
                         results=results)


@router.post("/v1/generate/batch", tags=["generation"], summary="Generate text for several inputs",
             responses=responses({200: (BatchResponse, "One result per input, in input order")}, *_BATCH_ERRORS))
def generate_batch(body: BatchGenerateRequest) -> BatchResponse:
    """Each of ``inputs`` (at most 16) generated on its own, as ``POST /v1/generate`` would,
    with the same model and parameters: at once within the endpoint's capacity (4 calls
    per instance, at most 8), results in input order, each with its own status and error
    body. The request is 200 whenever it is valid; an input not started within the
    function's time budget fails alone (504 ``model_timeout``). Not stored for feedback.
    """
    started = time.monotonic()
    text = runtime().text
    # A sleeping model fails the whole batch at once with 503 model_asleep (and is
    # started), as on every route, rather than every input alone.
    wake_if_asleep(runtime().waker, text.catalog.resolve(body.model, "text"))
    requested = body.parameters.given()
    spec, outcomes = tenancy.charged(
        router.current_event.raw_event,
        sum(_reserve(lambda i=i: text.prepare_generate(body.model, i, requested, system=body.system), 1,
                     per_input=True) for i in body.inputs),
        lambda: text.generate_batch(body.model, body.inputs, requested, system=body.system,
                                    start_by=_start_by(started)),
        _batch_usage)
    return _batch(spec, None, outcomes)


@router.post("/v1/templates/<name>/batch", tags=["generation"], summary="Run a prompt template on several inputs",
             responses=responses({200: (BatchResponse, "One result per item, in item order")}, *_BATCH_ERRORS))
def run_template_batch(name: TemplateName, body: BatchTemplateRequest) -> BatchResponse:
    """Template ``name`` rendered with each of ``items`` (at most 16 variable sets), as
    ``POST /v1/generate/batch`` runs inputs: at once, in order, each with its own status.
    An unknown template or model fails the request (404)."""
    started = time.monotonic()
    text = runtime().text
    text.templates.get(name)
    # A sleeping model fails the whole batch at once with 503 model_asleep (and is
    # started), as on every route, rather than every input alone.
    wake_if_asleep(runtime().waker, text.catalog.resolve(body.model, "text"))
    requested = body.parameters.given()
    spec, outcomes = tenancy.charged(
        router.current_event.raw_event,
        sum(_reserve(lambda v=item.variables: text.prepare_template(name, body.model, v, requested), 1,
                     per_input=True) for item in body.items),
        lambda: text.run_template_batch(name, body.model, [item.variables for item in body.items], requested,
                                        start_by=_start_by(started)),
        _batch_usage)
    return _batch(spec, name, outcomes)
