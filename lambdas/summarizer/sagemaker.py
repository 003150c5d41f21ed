"""``generate`` for the summarizer, built on the front door's adapters.

The wire format (``frontdoor.services.payloads.TEXT_ADAPTERS``) and the
SageMaker call with its error mapping (``frontdoor.adapters.sagemaker_runtime``)
are the front door's; this module only translates the front door's HTTP-shaped
errors into the three outcomes the map-reduce acts on: too long (with the true
token count), worth retrying, or not. The invoker's own retries are off so the
map-reduce's jittered retries are the only ones, and the client waits as long
as SageMaker allows an invocation to run, not the API's sync budget.
"""

from __future__ import annotations

from typing import Any

from frontdoor.adapters.sagemaker_runtime import SageMakerRuntimeInvoker
from frontdoor.errors import FrontDoorError, ModelFailed, ModelInputRejected, ModelNotReady, ModelTimeout, Throttled
from frontdoor.services.params import TextParams
from frontdoor.services.payloads import TEXT_ADAPTERS, Generation
from summarizer.errors import InvalidInput, ModelCallError, ModelInputTooLong, RetryableModelError
from summarizer.mapreduce import Generate
from summarizer.tokens import parse_true_input_tokens

_RETRYABLE = (Throttled, ModelNotReady, ModelFailed, ModelTimeout)


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


def translate(exc: BaseException) -> Exception:
    """Map a front-door or botocore error to the summarizer's buckets."""
    if isinstance(exc, ModelInputRejected):
        tokens = parse_true_input_tokens(exc.message)
        if tokens is not None or "token" in exc.message:
            return ModelInputTooLong(exc.message, tokens)
        return ModelCallError(f"the model rejected the input: {exc.message}")
    if isinstance(exc, _RETRYABLE):
        return RetryableModelError(f"{type(exc).__name__}: {exc.message}", exc.retry_after)
    if isinstance(exc, FrontDoorError):
        return ModelCallError(f"{type(exc).__name__}: {exc.message}")
    # ValidationError (unknown endpoint) and other ClientErrors will not heal on retry.
    return ModelCallError(f"{type(exc).__name__}: {exc}")


def make_generate(endpoint_name: str, family: str, client: Any) -> Generate:
    """``generate(prompt, params) -> Generation`` bound to one endpoint."""
    adapter = TEXT_ADAPTERS.get(family)
    if adapter is None:
        raise InvalidInput(f"model family {family!r} has no text adapter")
    invoker = SageMakerRuntimeInvoker(client, max_attempts=1)

    def generate(prompt: str, params: dict) -> Generation:
        options = {k: v for k, v in params.items() if k not in ("max_new_tokens", "stop", "return_full_text")}
        request = adapter.build(prompt, TextParams(params["max_new_tokens"], 0, options, tuple(params.get("stop", ()))))
        try:
            return adapter.parse(invoker.invoke(endpoint_name, request))
        except Exception as exc:  # every failure must land in one of the three buckets
            raise translate(exc) from exc

    return generate
