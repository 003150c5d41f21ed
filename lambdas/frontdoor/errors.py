"""Domain exceptions. Routes and services raise these; ``api`` maps them to HTTP.

Every class carries its HTTP status and a stable machine-readable ``code`` so the
mapping lives in one place and clients can branch on ``error`` without parsing
messages.
"""

from __future__ import annotations

from typing import Any


class FrontDoorError(Exception):
    """Base for errors that are the caller's or the model's, never a bug of ours."""

    status: int = 500
    code: str = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.retry_after = retry_after


class BadRequest(FrontDoorError):
    status = 400
    code = "bad_request"


class SpecialTokensRejected(BadRequest):
    code = "special_tokens_rejected"


class NotFound(FrontDoorError):
    status = 404
    code = "not_found"


class PayloadTooLarge(FrontDoorError):
    status = 413
    code = "payload_too_large"


class ModelInputRejected(FrontDoorError):
    """The model itself refused the input (TGI 422), e.g. too many tokens."""

    status = 422
    code = "model_validation_error"


class Throttled(FrontDoorError):
    status = 429
    code = "throttled"


class ModelFailed(FrontDoorError):
    """The model container answered with an error that is not the caller's fault."""

    status = 502
    code = "model_error"


class ModelNotReady(FrontDoorError):
    status = 503
    code = "model_not_ready"


class ModelAsleep(ModelNotReady):
    """The model's endpoint was deleted to save cost; the front door is starting it."""

    code = "model_asleep"


class ModelUnavailable(FrontDoorError):
    """The model's endpoint does not exist and the model does not sleep: an operator
    must redeploy it. Not a ModelNotReady: retrying within seconds will not help."""

    status = 503
    code = "model_unavailable"


class ModelTimeout(FrontDoorError):
    status = 504
    code = "model_timeout"


class ConfigError(Exception):
    """Bad environment/configuration: raised at cold start so init fails loudly."""
