"""The SageMaker runtime client: invoke an endpoint, retry throttling, map every
failure to ``inference.errors`` once.

botocore's own retries are switched off so that there is exactly one retry policy
(full jitter, bounded attempts) and we know when to give up with ``Throttled``.
The front door retries inside one request (3 attempts); the summarizer passes
``max_attempts=1`` because its map-reduce retries each call itself.

Messages reach callers (HTTP bodies, job errors), so they name the model and an
error code only: botocore's texts carry endpoint names and the AWS account id
and go to the log.

Models on a shared endpoint run as inference components (ICs): the same call with
``InferenceComponentName`` (header ``X-Amzn-SageMaker-Inference-Component``). An IC
whose copies are at zero answers ``ValidationError`` (HTTP 400) "Inference Component
has no capacity to process this request. ..." (``NO_CAPACITY_MESSAGE``), mapped to
``ModelScalingUp``.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from inference.clients import new_client
from inference.codecs import WireRequest
from inference.errors import (
    InvocationFailed,
    ModelAsleep,
    ModelFailed,
    ModelInputRejected,
    ModelNotReady,
    ModelScalingUp,
    ModelTimeout,
    ModelUnavailable,
    Throttled,
)
from inference.tokens import parse_true_input_tokens

# Below API Gateway's 29 s integration timeout, leaving room for retries and the
# response; the Lambda timeout must stay above it (docs/frontdoor.md).
READ_TIMEOUT_S = 20.0
# A token stream waits at most this long for its next payload part (the first one comes
# after the whole prompt is read: ~seconds for a long prompt on a big model).
STREAM_READ_TIMEOUT_S = 60.0
# What SageMaker lets one invocation run (~60 s), for callers outside the API's budget.
LONG_READ_TIMEOUT_S = 70.0
CONNECT_TIMEOUT_S = 2.0
MAX_ATTEMPTS = 3
BASE_DELAY_S = 0.1
MAX_DELAY_S = 1.0
RETRY_AFTER_THROTTLED_S = 1
RETRY_AFTER_NOT_READY_S = 30
RETRY_AFTER_UNAVAILABLE_S = 5
# An endpoint that is gone comes back only by a deploy: ask for a slow retry.
RETRY_AFTER_MISSING_ENDPOINT_S = 60
# An inference component at zero copies: the failed call starts the scale-out (the
# NoCapacityInvocationFailures alarm fires within a minute), and a first copy takes
# about SCALE_OUT_MINUTES (AWS measured ~5 min for an 8B model, ~6 for a 70B, trigger
# included: see NO_CAPACITY_MESSAGE's source). Poll every minute meanwhile.
RETRY_AFTER_SCALING_UP_S = 60
SCALE_OUT_MINUTES = 5
# InvokeEndpoint's answer for an IC with no copy (scaled to zero), verbatim: a
# ValidationError, HTTP 400 (botocore's service model for sagemaker-runtime). Source:
# AWS Machine Learning Blog, "Unlock cost savings with the new scale down to zero
# feature in SageMaker Inference" (2024-12-03), section "Test the solution":
# https://aws.amazon.com/blogs/machine-learning/unlock-cost-savings-with-the-new-scale-down-to-zero-feature-in-sagemaker-inference/
# (the SageMaker guide, "Scale an endpoint to zero instances", only says that calls
# "produce an error" until an instance is provisioned). local.emulator answers it.
NO_CAPACITY_MESSAGE = ("Inference Component has no capacity to process this request. ApplicationAutoScaling "
                       "may be in-progress (if configured) or try to increase the capacity by invoking "
                       "UpdateInferenceComponentRuntimeConfig API.")
_NO_CAPACITY = re.compile(r"^Inference Component has no capacity to process this request\b", re.I)

_RETRYABLE = frozenset({"ThrottlingException", "ServiceUnavailable", "InternalFailure"})
# InvokeEndpoint's answer for an endpoint that does not exist (e.g. deleted to sleep).
_ENDPOINT_MISSING = re.compile(r"^Endpoint \S+ of account \S+ not found")
# ModelStreamError's message when the model ran out of SageMaker's time ("Your model primary did not
# complete sending the inference response in the allotted time."); its ErrorCode
# (ModelInvocationTimeExceeded | StreamBroken) is not kept by botocore's event-stream error parser.
_STREAM_TIMED_OUT = re.compile(r"allotted time|ModelInvocationTimeExceeded", re.I)
_WRAPPED = re.compile(r'Received (?:client|server) error \((\d{3})\) from \S+ with message "(.*)"\. See ', re.S)


@dataclass(frozen=True)
class Target:
    """What the client knows of an endpoint (or of an inference component on a shared
    endpoint): the public model name, and whether it sleeps."""

    model: str
    wakeable: bool = False


def target_key(endpoint_name: str, inference_component: str | None = None) -> str:
    """``SageMakerRuntime.targets``' key: the endpoint name, or ``endpoint/component``
    for a model on a shared endpoint (endpoint names have no ``/``)."""
    return f"{endpoint_name}/{inference_component}" if inference_component else endpoint_name


def _model_message(original: str) -> str:
    """TGI answers {"error": "...", "error_type": "..."}; keep just the message."""
    try:
        data = json.loads(original)
    except ValueError:
        return original
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"]
    return original


def map_model_error(response: dict[str, Any]) -> Exception:
    """Turn a ModelError (HTTP 424) into the caller-facing error."""
    status = response.get("OriginalStatusCode")
    original = response.get("OriginalMessage")
    if status is None or original is None:
        match = _WRAPPED.search(response.get("Error", {}).get("Message", ""))
        if match:
            status, original = int(match.group(1)), match.group(2)
    if isinstance(status, int) and 400 <= status < 500 and original:
        message = _model_message(original)
        return ModelInputRejected(message, input_tokens=parse_true_input_tokens(message),
                                  details=[{"model_status": status}])
    return ModelFailed("the model failed to process the request")


def _validation_error(code: str, exc: Exception, pattern: re.Pattern[str]) -> bool:
    """A ``ValidationError`` whose message starts as ``pattern`` says (endpoint missing, no capacity)."""
    if code != "ValidationError":
        return False
    message = exc.response.get("Error", {}).get("Message", "")  # type: ignore[attr-defined]
    return pattern.match(message) is not None


def asleep_message(model: str) -> str:
    return f"model {model} is asleep; a request to it through the API starts it, then try again"


class SageMakerRuntime:
    """InvokeEndpoint with one retry policy and one error mapping.

    Args:
        client: a sagemaker-runtime client; built on first use when None.
        targets: ``target_key(endpoint, component)`` -> ``Target`` for every configured model.
        waker: an ``inference.control.EndpointWaker`` that may start sleeping
            models; None where this function may not (the summarization worker):
            a sleeping model then answers ``ModelAsleep`` without being started.
        read_timeout_s, max_pool_connections: of the client built here.
    """

    def __init__(
        self,
        client: Any = None,
        *,
        targets: dict[str, Target] | None = None,
        waker: Any = None,
        max_attempts: int = MAX_ATTEMPTS,
        base_delay_s: float = BASE_DELAY_S,
        max_delay_s: float = MAX_DELAY_S,
        read_timeout_s: float = READ_TIMEOUT_S,
        max_pool_connections: int = 10,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        logger: Any = None,
    ) -> None:
        self._client = client
        self.targets = targets or {}
        self.waker = waker
        # The Powertools logger in Lambda functions; the stdlib's elsewhere (tools, tests).
        self.logger = logger or logging.getLogger(__name__)
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.read_timeout_s = read_timeout_s
        self.max_pool_connections = max_pool_connections
        self._sleep = sleep
        self._rand = rand
        self.last_attempts = 0

    @classmethod
    def for_models(cls, models: Iterable[Any], **kwargs: Any) -> SageMakerRuntime:
        """One client for the catalog's models (``inference.catalog.ModelSpec``)."""
        targets = {target_key(m.endpoint_name, m.inference_component): Target(m.name, m.wakeable) for m in models}
        return cls(targets=targets, **kwargs)

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = new_client("sagemaker-runtime", read_timeout=self.read_timeout_s,
                                      connect_timeout=CONNECT_TIMEOUT_S, retries={"total_max_attempts": 1},
                                      max_pool_connections=self.max_pool_connections)
        return self._client

    def _backoff(self, attempt: int) -> float:
        # "Full jitter": uniform in [0, min(cap, base * 2^attempt)].
        return self._rand() * min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))

    def invoke(self, endpoint_name: str, request: WireRequest, inference_component: str | None = None) -> bytes:
        """One model call; ``inference_component`` for a model on a shared endpoint
        (``ModelSpec.inference_component``), None for a model with its own endpoint."""
        extra = {"InferenceComponentName": inference_component} if inference_component else {}

        def call() -> bytes:
            response = self.client.invoke_endpoint(
                EndpointName=endpoint_name,
                Body=request.body,
                ContentType=request.content_type,
                Accept=request.accept,
                **extra,
            )
            return response["Body"].read()

        return self._with_retries(call, endpoint_name, inference_component)

    def invoke_stream(self, endpoint_name: str, request: WireRequest,
                      inference_component: str | None = None) -> Iterator[bytes]:
        """InvokeEndpointWithResponseStream: the bytes of each payload part as it arrives.

        Until the response starts, exactly ``invoke``'s retries and error mapping (a
        throttled, missing, sleeping or scaled-to-zero model answers as on the buffered
        route). Returns once SageMaker has accepted the call; a failure after that comes
        out of the iteration: ``ModelStreamError`` / ``InternalStreamFailure`` events
        (SageMaker API Reference, "ResponseStream") as ``ModelFailed`` (``ModelTimeout``
        when the model ran out of SageMaker's time), a read timeout between two parts as
        ``ModelTimeout``, a cut connection as ``ModelFailed``. Closing the iterator closes
        the connection (a caller that went away stops the model's stream).
        """
        extra = {"InferenceComponentName": inference_component} if inference_component else {}

        def call() -> Any:
            return self.client.invoke_endpoint_with_response_stream(
                EndpointName=endpoint_name,
                Body=request.body,
                ContentType=request.content_type,
                Accept=request.accept,
                **extra,
            )["Body"]

        body = self._with_retries(call, endpoint_name, inference_component)
        return self._payload_parts(body, target_key(endpoint_name, inference_component))

    def _payload_parts(self, body: Any, key: str) -> Iterator[bytes]:
        from botocore.exceptions import ClientError, ReadTimeoutError
        from urllib3.exceptions import HTTPError as Urllib3Error
        from urllib3.exceptions import ReadTimeoutError as Urllib3ReadTimeout

        try:
            for event in body:
                part = event.get("PayloadPart")
                if part is not None and part.get("Bytes"):
                    yield part["Bytes"]
        except ClientError as exc:  # botocore's EventStreamError: an exception event in the stream
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", "")
            self.logger.warning("model stream failed", extra={"endpoint_name": key, "error": code, "reason": message})
            if code == "ModelStreamError" and _STREAM_TIMED_OUT.search(message):
                raise ModelTimeout(f"{self._subject(key)} did not finish its answer in time") from exc
            raise ModelFailed(f"{self._subject(key)} failed while streaming its answer") from exc
        except (ReadTimeoutError, Urllib3ReadTimeout) as exc:
            raise ModelTimeout(f"{self._subject(key)} stopped sending tokens") from exc
        except Urllib3Error as exc:
            raise ModelFailed(f"the stream of {self._subject(key)} was cut") from exc
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    def _with_retries(self, call: Callable[[], Any], endpoint_name: str, inference_component: str | None) -> Any:
        """``call()`` under the one retry policy, every failure mapped to ``inference.errors``."""
        from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

        for attempt in range(1, self.max_attempts + 1):
            self.last_attempts = attempt
            try:
                return call()
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in _RETRYABLE and attempt < self.max_attempts:
                    self._sleep(self._backoff(attempt))
                    continue
                if _validation_error(code, exc, _ENDPOINT_MISSING):
                    raise self._missing(endpoint_name, inference_component) from exc
                if inference_component and _validation_error(code, exc, _NO_CAPACITY):
                    raise self._scaling_up(endpoint_name, inference_component) from exc
                raise self._map(code, exc, target_key(endpoint_name, inference_component)) from exc
            except ReadTimeoutError as exc:
                raise ModelTimeout("the model did not answer in time") from exc
            except ConnectionError as exc:
                raise ModelNotReady("the model endpoint is unreachable",
                                    retry_after=RETRY_AFTER_UNAVAILABLE_S) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _subject(self, key: str) -> str:
        target = self.targets.get(key)
        return f"model {target.model}" if target else "the model"

    def _scaling_up(self, endpoint_name: str, inference_component: str) -> ModelScalingUp:
        """No copy of the model's inference component is running: it scaled to zero while
        idle. This failed call is what scales it out again (NoCapacityInvocationFailures)."""
        key = target_key(endpoint_name, inference_component)
        target = self.targets.get(key)
        self.logger.warning("model scaling up from zero copies", extra={
            "error": ModelScalingUp.code, "model": target.model if target else None,
            "endpoint_name": endpoint_name, "inference_component": inference_component})
        return ModelScalingUp(f"{self._subject(key)} has no copy running (scaled to zero while idle) and is starting; "
                              f"that takes ~{SCALE_OUT_MINUTES} minutes, retry later",
                              retry_after=RETRY_AFTER_SCALING_UP_S)

    def _missing(self, endpoint_name: str, inference_component: str | None = None) -> Exception:
        """No endpoint: a sleeping model is started (or reported asleep); any other
        model was deleted by hand or by a failed deploy. The caller learns the model
        name only; the log names the endpoint."""
        if self.waker is not None and not inference_component and self.waker.wakeable(endpoint_name):
            return self.waker.wake(endpoint_name)
        key = target_key(endpoint_name, inference_component)
        target = self.targets.get(key)
        if target is not None and target.wakeable:
            self.logger.warning("model asleep", extra={"model": target.model, "endpoint_name": endpoint_name})
            return ModelAsleep(asleep_message(target.model))
        self.logger.error("model endpoint not found", extra={
            "error": "model_unavailable", "model": target.model if target else None, "endpoint_name": endpoint_name})
        return ModelUnavailable(f"{self._subject(key)} is not available right now",
                                retry_after=RETRY_AFTER_MISSING_ENDPOINT_S)

    def _map(self, code: str, exc: Exception, key: str) -> Exception:
        if code == "ModelError":
            return map_model_error(exc.response)  # type: ignore[attr-defined]
        if code == "ThrottlingException":
            return Throttled(f"the model is busy; retried {self.max_attempts} times",
                             retry_after=RETRY_AFTER_THROTTLED_S)
        if code == "ModelNotReadyException":
            return ModelNotReady("the model is not ready yet", retry_after=RETRY_AFTER_NOT_READY_S)
        if code == "ServiceUnavailable":
            return ModelNotReady("the model service is unavailable", retry_after=RETRY_AFTER_UNAVAILABLE_S)
        if code == "InternalFailure":
            return ModelFailed("the model service failed")
        # Any other ValidationError (e.g. a payload over SageMaker's limit) is our
        # bug, not the caller's: logged in full, answered with the code only.
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")  # type: ignore[attr-defined]
        self.logger.warning("model call failed", extra={"endpoint_name": key, "error": str(exc)})
        return InvocationFailed(f"{self._subject(key)} failed: {code or 'ClientError'}"
                                + (f" ({status})" if status else ""))
