"""Text generation routes: raw generation and named templates."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.metrics import MetricUnit

from frontdoor import context
from frontdoor.config import runtime
from frontdoor.models import (
    GenerateRequest,
    GenerateResponse,
    TemplateRunRequest,
    TemplateRunResponse,
    Usage,
    responses,
)
from inference.observability import metrics

router = Router()
_ERRORS = (400, 404, 413, 415, 422, 502, 503, 504)


def _record(model: str, model_ms: float) -> None:
    context.model_ms.set(model_ms)
    metrics.add_metric(name="ModelLatency", unit=MetricUnit.Milliseconds, value=model_ms)
    metrics.add_metadata(key="model", value=model)


@router.post("/v1/generate", tags=["generation"], summary="Generate text",
             responses=responses({200: (GenerateResponse, "The generated text")}, *_ERRORS))
def generate(body: GenerateRequest) -> GenerateResponse:
    """Send ``inputs`` (wrapped in the model family's prompt format) to a text model.

    Parameters are validated per family: ranges, at most 4 stop sequences and
    ``max_new_tokens`` within the model's token budget. Stop strings are removed
    from the output.
    """
    result = runtime().text.generate(body.model, body.inputs, body.parameters.given(), system=body.system)
    _record(result.model, result.model_ms)
    return GenerateResponse(output=result.output, model=result.model, finish_reason=result.finish_reason,
                            usage=Usage(**result.usage))


@router.post("/v1/templates/<name>", tags=["generation"], summary="Run a prompt template",
             responses=responses({200: (TemplateRunResponse, "The generated text")}, *_ERRORS))
def run_template(
    name: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    body: TemplateRunRequest,
) -> TemplateRunResponse:
    """Render template ``name`` with ``variables`` and send it to a text model.

    Sentiment and classification templates also return a normalized ``label``.
    """
    result = runtime().text.run_template(name, body.model, body.variables, body.parameters.given())
    _record(result.model, result.model_ms)
    return TemplateRunResponse(output=result.output, model=result.model, finish_reason=result.finish_reason,
                               usage=Usage(**result.usage), template=name, label=result.label)
