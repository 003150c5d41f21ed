"""Errors to HTTP, in one place.

Everything below the routes raises ``inference.errors`` (model, catalog and
parameter errors) or ``summarizer.errors``; this table gives each its status.
``PayloadTooLarge`` is the front door's own: only HTTP has bodies.
"""

from __future__ import annotations

from typing import Any

from frontdoor import context
from inference.errors import (
    BadRequest,
    InferenceError,
    InvocationFailed,
    ModelFailed,
    ModelInputRejected,
    ModelNotReady,
    ModelScalingUp,
    ModelTimeout,
    ModelUnavailable,
    NotFound,
    Throttled,
)


class PayloadTooLarge(InferenceError):
    code = "payload_too_large"


class NotMetered(InferenceError):
    """A route the tenant's token budget cannot meter yet (summarization: its map-reduce runs
    on after the answer, in jobs): refused (403) for a tenant with a budget, so that no route
    spends tokens past it."""

    code = "not_metered"


class QuotaExceeded(Throttled):
    """The tenant's monthly token budget cannot cover the call (``tenants.budget``): 429
    ``insufficient_quota`` with Retry-After = seconds to the next UTC month."""

    code = "insufficient_quota"
    retryable = False


# What a caller is told, wherever the answer is made (the resolver, the streaming
# function's server, a batch input, a stream's error event).
INTERNAL_ERROR_MESSAGE = "internal error; quote the request_id when reporting it"
INVALID_JSON_MESSAGE = "request body is not valid JSON"
SCHEMA_MISMATCH_MESSAGE = "request does not match the schema"


# Most specific class first does not matter: the lookup walks the exception's MRO.
# 400 means "does not match the OpenAPI document" and only request validation
# (``frontdoor.api``, or API Gateway's validator) answers it. Everything raised below
# the routes is about a request the document accepts but this deployment's models
# or templates cannot take (catalog, family and template rules): 422, as is the
# model's own refusal.
STATUS: dict[type[InferenceError], int] = {
    BadRequest: 422,
    NotFound: 404,
    PayloadTooLarge: 413,
    NotMetered: 403,
    ModelInputRejected: 422,
    Throttled: 429,
    ModelFailed: 502,
    ModelNotReady: 503,
    # An inference component scaling out from zero copies: minutes, with Retry-After.
    ModelScalingUp: 503,
    ModelUnavailable: 503,
    ModelTimeout: 504,
    InvocationFailed: 500,
}


def status_of(exc: InferenceError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Every error answer's body: ``{"error", "message", "request_id", "details"?}``."""
    body: dict[str, Any] = {"error": code, "message": message, "request_id": context.request_id.get()}
    if details:
        body["details"] = details
    return body
