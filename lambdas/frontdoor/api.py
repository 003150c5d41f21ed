"""The resolver: mounts the routers and owns the error policy (exception -> HTTP).

Every error body is ``{"error", "message", "request_id", "details"?}``; statuses
come from ``frontdoor.errors.STATUS``. Expected errors (4xx, model errors) are
logged at warning without a stack trace; anything unexpected is logged in full
and answered with a generic 500.

The handler calls ``resolve``, which mounts the route modules owning a route that
matches the request's path (``ROUTES``) before resolving it: a cold start imports
and builds only what its first request needs (GET /v1/templates does not pay for the
OpenAI, generation or summarization routes and their models; issue 20's bench). A path
no rule matches mounts every module first, so its 404 is the one every route mounted
gives. Routes never overlap and the OpenAPI document does not depend on mount order.
``app`` (``frontdoor.contract``, tests) is the resolver with every module mounted.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from frontdoor import context
from frontdoor.errors import (
    INTERNAL_ERROR_MESSAGE,
    INVALID_JSON_MESSAGE,
    SCHEMA_MISMATCH_MESSAGE,
    error_body,
    status_of,
)
from frontdoor.openai_errors import (
    details_of,
    is_openai_path,
    openai_error_body,
    openai_status,
    openai_validation_message,
)
from inference.errors import InferenceError, ModelAsleep, ModelScalingUp, ModelUnavailable
from inference.observability import logger
from summarizer.errors import ChunkFailed, InvalidInput

if TYPE_CHECKING:  # imported by ``mount``, by name; listed here for type checkers and the layering tests
    from frontdoor.routes import (  # noqa: F401
        catalog,
        feedback,
        generation,
        generation_stream,
        images,
        meta,
        openai_media,
        openai_text,
        summarize,
    )

# Each module of frontdoor.routes (in mount order) and the rules of its routes, any method
# (tests/lambdas/frontdoor/test_api_mounting.py keeps this equal to the routers).
ROUTES: dict[str, tuple[str, ...]] = {
    "catalog": ("/v1/models", "/v1/templates"),
    "generation": ("/v1/generate", "/v1/templates/<name>", "/v1/generate/batch", "/v1/templates/<name>/batch"),
    "generation_stream": ("/v1/generate/stream", "/v1/templates/<name>/stream"),
    "images": ("/v1/images", "/v1/images/presets"),
    "feedback": ("/v1/feedback",),
    "meta": ("/v1/openapi.json",),
    "summarize": ("/v1/summarize", "/v1/jobs/<job_id>", "/v1/uploads"),
    "openai_text": ("/v1/chat/completions", "/v1/completions"),
    "openai_media": ("/v1/models/<model>", "/v1/embeddings", "/v1/images/generations"),
}

_app = APIGatewayRestResolver(enable_validation=True)
_mounted: set[str] = set()
_mount_lock = threading.Lock()


def _matches(rule: str, segments: list[str]) -> bool:
    """Whether a path's segments fit ``rule``; ``<param>`` takes any one non-empty segment
    (a superset of what Powertools' pattern for it takes, so no needed module is missed)."""
    parts = rule.split("/")
    return len(parts) == len(segments) and all(
        s != "" if p.startswith("<") else p == s for p, s in zip(parts, segments))


def modules_for(path: Any) -> tuple[str, ...]:
    """The route modules with a rule matching ``path`` (trailing slashes ignored, as the
    resolver ignores them); every module when none has one."""
    if not isinstance(path, str):
        return tuple(ROUTES)
    segments = path.rstrip("/").split("/")
    found = tuple(name for name, rules in ROUTES.items() if any(_matches(r, segments) for r in rules))
    return found or tuple(ROUTES)


def mount(names: tuple[str, ...]) -> APIGatewayRestResolver:
    """Import and mount the route modules ``names`` not mounted yet; the resolver."""
    if not _mounted.issuperset(names):
        with _mount_lock:
            for name in names:
                if name not in _mounted:
                    _app.include_router(importlib.import_module(f"frontdoor.routes.{name}").router)
                    _mounted.add(name)
    return _app


def resolve(event: dict[str, Any], lambda_context: Any) -> dict[str, Any]:
    """The resolver's answer to ``event``, with the routes its path can reach mounted."""
    return mount(modules_for(event.get("path"))).resolve(event, lambda_context)


def __getattr__(name: str) -> Any:
    if name == "app":  # every route mounted: the whole API (contract, tests)
        return mount(tuple(ROUTES))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _path() -> str | None:
    event = _app.current_event
    return event.path if event is not None else None


def _error(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None,
           retry_after: int | None = None) -> Response:
    """The error answer in the route's dialect: OpenAI's body and statuses on its routes
    (``frontdoor.openai_errors``), this API's everywhere else."""
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    if is_openai_path(_path()):
        status = openai_status(status)
        body = openai_error_body(status, code, message, details, context.request_id.get())
    else:
        body = error_body(code, message, details)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


@_app.exception_handler(InferenceError)
def _domain_error(exc: InferenceError) -> Response:
    status = status_of(exc)
    logger.warning("request failed", extra={"error": exc.code, "status": status, "reason": exc.message})
    details = details_of(exc, _path()) if is_openai_path(_path()) else exc.details
    return _error(status, exc.code, exc.message, details, exc.retry_after)


@_app.exception_handler(ChunkFailed)
def _summary_failed(exc: ChunkFailed) -> Response:
    """A summary that cannot finish says which chunk it could not do; a model that
    is asleep, gone or scaling up from zero copies is answered as on every other
    route (503 + Retry-After)."""
    if isinstance(exc.cause, (ModelAsleep, ModelUnavailable, ModelScalingUp)):
        return _domain_error(exc.cause)
    logger.warning("summary failed", extra={"error": "model_error", "reason": str(exc)})
    return _error(502, "model_error", str(exc), [{"stage": exc.stage, "chunk": exc.index, "attempts": exc.attempts}])


@_app.exception_handler(InvalidInput)
def _invalid_input(exc: InvalidInput) -> Response:
    # The document accepted it; the summarizer cannot use it (frontdoor.errors.STATUS).
    return _error(422, "bad_request", str(exc))


@_app.exception_handler(RequestValidationError)
def _validation_error(exc: RequestValidationError) -> Response:
    # loc/type/msg describe the input; pydantic's "input" echo and ctx are left out.
    details = [{"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")} for e in exc.errors()]
    invalid_json = any(d["type"] == "json_invalid" for d in details)
    message = INVALID_JSON_MESSAGE if invalid_json else SCHEMA_MISMATCH_MESSAGE
    if is_openai_path(_path()) and not invalid_json:
        message = openai_validation_message(details)
    return _error(400, "invalid_json" if invalid_json else "validation_error", message, details)


@_app.exception_handler(RequestUnsupportedContentType)
def _unsupported_type(exc: RequestUnsupportedContentType) -> Response:
    return _error(415, "unsupported_media_type", "send the body as application/json")


@_app.not_found
def _not_found(exc: NotFoundError) -> Response:
    event = _app.current_event
    return _error(404, "not_found", f"no route for {event.http_method} {event.path}")


@_app.exception_handler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    return _error(exc.status_code, "error", exc.msg)


@_app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    logger.exception("unexpected error")
    return _error(500, "internal_error", INTERNAL_ERROR_MESSAGE)

