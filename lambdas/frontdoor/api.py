"""The resolver: mounts the routers and owns the error policy (exception -> HTTP).

Every error body is ``{"error", "message", "request_id", "details"?}``; statuses
come from ``frontdoor.errors.STATUS``. Expected errors (4xx, model errors) are
logged at warning without a stack trace; anything unexpected is logged in full
and answered with a generic 500.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from frontdoor.errors import (
    INTERNAL_ERROR_MESSAGE,
    INVALID_JSON_MESSAGE,
    SCHEMA_MISMATCH_MESSAGE,
    error_body,
    status_of,
)
from frontdoor.routes import catalog, feedback, generation, generation_stream, images, meta, summarize
from inference.errors import InferenceError, ModelAsleep, ModelScalingUp, ModelUnavailable
from inference.observability import logger
from summarizer.errors import ChunkFailed, InvalidInput

app = APIGatewayRestResolver(enable_validation=True)
for module in (catalog, generation, generation_stream, images, feedback, meta, summarize):
    app.include_router(module.router)


def _error(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None,
           retry_after: int | None = None) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=error_body(code, message, details), headers=headers)


@app.exception_handler(InferenceError)
def _domain_error(exc: InferenceError) -> Response:
    status = status_of(exc)
    logger.warning("request failed", extra={"error": exc.code, "status": status, "reason": exc.message})
    return _error(status, exc.code, exc.message, exc.details, exc.retry_after)


@app.exception_handler(ChunkFailed)
def _summary_failed(exc: ChunkFailed) -> Response:
    """A summary that cannot finish says which chunk it could not do; a model that
    is asleep, gone or scaling up from zero copies is answered as on every other
    route (503 + Retry-After)."""
    if isinstance(exc.cause, (ModelAsleep, ModelUnavailable, ModelScalingUp)):
        return _domain_error(exc.cause)
    logger.warning("summary failed", extra={"error": "model_error", "reason": str(exc)})
    return _error(502, "model_error", str(exc), [{"stage": exc.stage, "chunk": exc.index, "attempts": exc.attempts}])


@app.exception_handler(InvalidInput)
def _invalid_input(exc: InvalidInput) -> Response:
    # The document accepted it; the summarizer cannot use it (frontdoor.errors.STATUS).
    return _error(422, "bad_request", str(exc))


@app.exception_handler(RequestValidationError)
def _validation_error(exc: RequestValidationError) -> Response:
    # loc/type/msg describe the input; pydantic's "input" echo and ctx are left out.
    details = [{"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")} for e in exc.errors()]
    invalid_json = any(d["type"] == "json_invalid" for d in details)
    message = INVALID_JSON_MESSAGE if invalid_json else SCHEMA_MISMATCH_MESSAGE
    return _error(400, "invalid_json" if invalid_json else "validation_error", message, details)


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_type(exc: RequestUnsupportedContentType) -> Response:
    return _error(415, "unsupported_media_type", "send the body as application/json")


@app.not_found
def _not_found(exc: NotFoundError) -> Response:
    event = app.current_event
    return _error(404, "not_found", f"no route for {event.http_method} {event.path}")


@app.exception_handler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    return _error(exc.status_code, "error", exc.msg)


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    logger.exception("unexpected error")
    return _error(500, "internal_error", INTERNAL_ERROR_MESSAGE)
