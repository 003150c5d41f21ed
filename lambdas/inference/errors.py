"""One error taxonomy for everything that can go wrong on the way to a model.

Raised by the catalog, parameter rules, prompt formats and the SageMaker
clients; the summarizer passes them on (as a ``ChunkFailed`` cause) and the front
door maps them to HTTP once (``frontdoor.errors``). Each class carries a stable
machine-readable ``code`` and whether trying the same call again can help.
"""

from __future__ import annotations

import json
from typing import Any


class InferenceError(Exception):
    """Base for errors that are the caller's or the model's, never a bug of ours.

    Attributes:
        code: stable error code clients branch on.
        retryable: another identical call, seconds later, may succeed.
        retry_after: seconds to wait before that call, when known.
    """

    code: str = "internal_error"
    retryable: bool = False

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


class BadRequest(InferenceError):
    code = "bad_request"


class SpecialTokensRejected(BadRequest):
    code = "special_tokens_rejected"


class NotFound(InferenceError):
    code = "not_found"


class ModelInputRejected(InferenceError):
    """The model itself refused the input (TGI 422), e.g. too many tokens.

    ``input_tokens`` is the true input token count when the model stated it.
    """

    code = "model_validation_error"

    def __init__(self, message: str, *, input_tokens: int | None = None,
                 details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, details=details)
        self.input_tokens = input_tokens

    @property
    def too_long(self) -> bool:
        """The refusal is about length: a shorter input would be accepted."""
        return self.input_tokens is not None or "token" in self.message


class Throttled(InferenceError):
    code = "throttled"
    retryable = True


class ModelFailed(InferenceError):
    """The model container answered with an error that is not the caller's fault."""

    code = "model_error"
    retryable = True


class ModelNotReady(InferenceError):
    code = "model_not_ready"
    retryable = True


class ModelAsleep(ModelNotReady):
    """The model's endpoint was deleted to save cost; it is being (or must be) started.
    Minutes away: retrying within one request will not help."""

    code = "model_asleep"
    retryable = False


class ModelScalingUp(ModelNotReady):
    """The model runs as an inference component on a shared endpoint and has no copy
    running (scaled to zero while idle). The call that met no capacity is what starts
    the scale-out (SageMaker's NoCapacityInvocationFailures metric drives the step
    scaling policy), and a first copy takes minutes (an instance, then the model):
    retrying within one request will not help, a later request will."""

    code = "model_scaling_up"
    retryable = False


class ModelUnavailable(InferenceError):
    """The model's endpoint does not exist and the model does not sleep: an operator
    must redeploy it. Not a ModelNotReady: retrying within seconds will not help."""

    code = "model_unavailable"


class ModelTimeout(InferenceError):
    code = "model_timeout"
    retryable = True


class InvocationFailed(InferenceError):
    """SageMaker refused the call for a reason that is ours, not the caller's or the
    model's (e.g. a payload over its limit): the message names the model and the
    AWS error code only; botocore's text (endpoint name, account) goes to the log."""

    code = "internal_error"


class ConfigError(Exception):
    """Bad environment/configuration: raised at cold start so init fails loudly."""


def json_list(raw: str, variable: str) -> list[Any]:
    """An environment variable holding a JSON list, or a ConfigError naming it."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{variable} is not valid JSON: {exc}") from exc
    if not isinstance(data, list):
        raise ConfigError(f"{variable} must be a JSON list")
    return data
