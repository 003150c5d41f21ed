"""``generate`` for the summarizer, built on the front door's adapters.

The wire format (``frontdoor.services.payloads.TEXT_ADAPTERS``) and the
SageMaker call with its error mapping (``frontdoor.adapters.sagemaker_runtime``)
are the front door's; this module only translates the front door's HTTP-shaped
errors into the outcomes the map-reduce acts on: too long (with the true token
count), worth retrying, not, or the model is unavailable (asleep: the front
door's 503 is carried along). The invoker's own retries are off so the
map-reduce's jittered retries are the only ones, and the client waits as long
as SageMaker allows an invocation to run, not the API's sync budget.

Messages produced here reach clients (502 bodies, job errors), so they name the
model and an error code only: botocore's texts carry endpoint names and the AWS
account id and go to the log.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from frontdoor.adapters.sagemaker_runtime import SageMakerRuntimeInvoker
from frontdoor.errors import (
    FrontDoorError,
    ModelAsleep,
    ModelFailed,
    ModelInputRejected,
    ModelNotReady,
    ModelTimeout,
    Throttled,
)
from frontdoor.services.params import TextParams
from frontdoor.services.payloads import TEXT_ADAPTERS, Generation
from summarizer.errors import InvalidInput, ModelCallError, ModelInputTooLong, ModelUnavailableError, RetryableModelError
from summarizer.mapreduce import Generate
from summarizer.tokens import parse_true_input_tokens

logger = logging.getLogger(__name__)

_RETRYABLE = (Throttled, ModelNotReady, ModelFailed, ModelTimeout)
# InvokeEndpoint's answer for an endpoint that does not exist (e.g. deleted to sleep).
_ENDPOINT_MISSING = re.compile(r"^Endpoint \S+ of account \S+ not found")
_THROTTLED = frozenset({"ThrottlingException", "ThrottledException"})


def runtime_client(max_concurrency: int):
    """A sagemaker-runtime client sized for ``max_concurrency`` parallel calls."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "sagemaker-runtime",
        config=Config(
            retries={"total_max_attempts": 1},
            connect_timeout=5,
            read_timeout=70,  # SageMaker lets one invocation run ~60 s
            max_pool_connections=max(10, max_concurrency + 2),
        ),
    )


def _client_error(exc: BaseException) -> tuple[str, int | None] | None:
    """(code, HTTP status) of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code") or "ClientError"
    return code, response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def endpoint_missing(exc: BaseException) -> bool:
    """InvokeEndpoint said the endpoint does not exist (raised directly or as the cause)."""
    for err in (exc, exc.__cause__):
        if err is not None and (_client_error(err) or ("",))[0] == "ValidationError":
            if _ENDPOINT_MISSING.match(err.response.get("Error", {}).get("Message", "")):  # type: ignore[attr-defined]
                return True
    return False


def asleep_error(model: str) -> ModelUnavailableError:
    """A sleeping model met where nothing may wake it (the worker has no control-plane rights)."""
    return ModelUnavailableError(
        f"model {model} is asleep; any request to it through the API (e.g. POST /v1/summarize) "
        "starts it, then submit the job again", code="model_asleep")


def translate(exc: BaseException, model: str | None = None) -> Exception:
    """Map a front-door or botocore error to the summarizer's buckets, with a client-safe message."""
    if isinstance(exc, ModelInputRejected):
        tokens = parse_true_input_tokens(exc.message)
        if tokens is not None or "token" in exc.message:
            return ModelInputTooLong(exc.message, tokens)
        return ModelCallError(f"the model rejected the input: {exc.message}")
    if isinstance(exc, ModelAsleep):
        # The front door started the endpoint; retrying for minutes inside one request will not help.
        return ModelUnavailableError(exc.message, code=exc.code, error=exc)
    if isinstance(exc, _RETRYABLE):
        return RetryableModelError(f"{type(exc).__name__}: {exc.message}", exc.retry_after)
    if isinstance(exc, FrontDoorError):
        # Includes the front door's ModelUnavailable (a deleted endpoint of a model that
        # does not sleep): answered as the front door answers it, no retry.
        if exc.status == 503:
            return ModelUnavailableError(exc.message, code=exc.code, error=exc)
        return ModelCallError(f"{type(exc).__name__}: {exc.message}")
    # ValidationError (unknown endpoint) and other ClientErrors will not heal on retry.
    # Their text names the endpoint and the account: log it, tell the client the code only.
    logger.warning("model call failed", extra={"model": model, "error": f"{type(exc).__name__}: {exc}"})
    subject = f"model {model}" if model else "the model"
    error = _client_error(exc)
    if error is None:
        return ModelCallError(f"{subject} failed: {type(exc).__name__}")
    code, status = error
    return ModelCallError(f"{subject} failed: {code}" + (f" ({status})" if status else ""))


def make_generate(endpoint_name: str, family: str, client: Any, *, model: str | None = None,
                  wakeable: bool = False, waker: Any = None) -> Generate:
    """``generate(prompt, params) -> Generation`` bound to one endpoint.

    Args:
        model: the model's public name, for error messages (never the endpoint name).
        wakeable: the model sleeps (its endpoint may be deleted).
        waker: the front door's ``EndpointWaker``; with it a missing endpoint of a
            wakeable model is started and answered with ``model_asleep`` (503), as on
            every other route. Without it (the worker) the job fails ``model_asleep``.
    """
    adapter = TEXT_ADAPTERS.get(family)
    if adapter is None:
        raise InvalidInput(f"model family {family!r} has no text adapter")
    invoker = SageMakerRuntimeInvoker(client, max_attempts=1, waker=waker,
                                      model_names={endpoint_name: model} if model else None)

    def generate(prompt: str, params: dict) -> Generation:
        options = {k: v for k, v in params.items() if k not in ("max_new_tokens", "stop", "return_full_text")}
        request = adapter.build(prompt, TextParams(params["max_new_tokens"], 0, options, tuple(params.get("stop", ()))))
        try:
            return adapter.parse(invoker.invoke(endpoint_name, request))
        except Exception as exc:  # every failure must land in one of the buckets
            if wakeable and not waker and endpoint_missing(exc):
                logger.warning("model asleep", extra={"model": model, "endpoint_name": endpoint_name})
                raise asleep_error(model or "the model") from exc
            raise translate(exc, model) from exc

    return generate


def check_awake(waker: Any, endpoint_name: str) -> None:
    """Before a summary starts: raise the front door's 503 if a sleeping model's endpoint is
    not InService, starting it if it is gone (``EndpointWaker.wake``, as every route does).

    One DescribeEndpoint per request, for models that sleep only. A throttled
    control plane is not a verdict: the model calls will tell.
    """
    from botocore.exceptions import ClientError

    from frontdoor.adapters.sagemaker_control import NOT_FOUND

    try:
        status = waker.sagemaker.describe_endpoint(EndpointName=endpoint_name)["EndpointStatus"]
    except ClientError as exc:
        code, _ = _client_error(exc) or ("", None)
        if code in _THROTTLED:
            return
        if code != "ValidationException" or NOT_FOUND not in exc.response.get("Error", {}).get("Message", ""):
            raise
        status = None  # asleep
    if status != "InService":
        raise waker.wake(endpoint_name)
