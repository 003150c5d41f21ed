"""Errors to HTTP, in one place.

Everything below the routes raises ``inference.errors`` (model, catalog and
parameter errors) or ``summarizer.errors``; this table gives each its status.
``PayloadTooLarge`` is the front door's own: only HTTP has bodies.
"""

from __future__ import annotations

from inference.errors import (
    BadRequest,
    InferenceError,
    InvocationFailed,
    ModelFailed,
    ModelInputRejected,
    ModelNotReady,
    ModelTimeout,
    ModelUnavailable,
    NotFound,
    Throttled,
)


class PayloadTooLarge(InferenceError):
    code = "payload_too_large"


# Most specific class first does not matter: the lookup walks the exception's MRO.
STATUS: dict[type[InferenceError], int] = {
    BadRequest: 400,
    NotFound: 404,
    PayloadTooLarge: 413,
    ModelInputRejected: 422,
    Throttled: 429,
    ModelFailed: 502,
    ModelNotReady: 503,
    ModelUnavailable: 503,
    ModelTimeout: 504,
    InvocationFailed: 500,
}


def status_of(exc: InferenceError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500
