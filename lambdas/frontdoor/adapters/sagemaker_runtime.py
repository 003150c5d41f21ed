"""SageMaker runtime adapter: invoke an endpoint, retry throttling, map errors.

botocore's own retries are switched off so that there is exactly one retry policy
(full jitter, bounded attempts) and we know when to give up with a 429.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from typing import Any, Callable

from frontdoor.adapters import new_client
from frontdoor.errors import (
    ModelFailed,
    ModelInputRejected,
    ModelNotReady,
    ModelTimeout,
    ModelUnavailable,
    Throttled,
)
from frontdoor.services.payloads import WireRequest

# Below API Gateway's 29 s integration timeout, leaving room for retries and the
# response; the Lambda timeout must stay above it (docs/frontdoor.md).
READ_TIMEOUT_S = 20.0
CONNECT_TIMEOUT_S = 2.0
MAX_ATTEMPTS = 3
BASE_DELAY_S = 0.1
MAX_DELAY_S = 1.0
RETRY_AFTER_THROTTLED_S = 1
RETRY_AFTER_NOT_READY_S = 30
RETRY_AFTER_UNAVAILABLE_S = 5
# An endpoint that is gone comes back only by a deploy: ask for a slow retry.
RETRY_AFTER_MISSING_ENDPOINT_S = 60

_RETRYABLE = frozenset({"ThrottlingException", "ServiceUnavailable", "InternalFailure"})
# InvokeEndpoint's answer for an endpoint that does not exist (e.g. deleted to sleep).
_ENDPOINT_MISSING = re.compile(r"^Endpoint \S+ of account \S+ not found")
_WRAPPED = re.compile(r'Received (?:client|server) error \((\d{3})\) from \S+ with message "(.*)"\. See ', re.S)


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
        return ModelInputRejected(_model_message(original), details=[{"model_status": status}])
    return ModelFailed("the model failed to process the request")


class SageMakerRuntimeInvoker:
    def __init__(
        self,
        client: Any = None,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        base_delay_s: float = BASE_DELAY_S,
        max_delay_s: float = MAX_DELAY_S,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        waker: Any = None,
        model_names: dict[str, str] | None = None,
        logger: Any = None,
    ) -> None:
        self._client = client
        # An `EndpointWaker` for models that sleep; None: no model sleeps.
        self.waker = waker
        # endpoint name -> model name, for callers' messages (endpoint names stay in logs).
        self.model_names = model_names or {}
        # The front door passes its Powertools logger; the summarizer's invokers log
        # through the stdlib (the Lambda runtime's handler) instead.
        self.logger = logger or logging.getLogger(__name__)
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self._sleep = sleep
        self._rand = rand
        self.last_attempts = 0

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = new_client("sagemaker-runtime", read_timeout=READ_TIMEOUT_S,
                                      connect_timeout=CONNECT_TIMEOUT_S, retries={"total_max_attempts": 1})
        return self._client

    def _backoff(self, attempt: int) -> float:
        # "Full jitter": uniform in [0, min(cap, base * 2^attempt)].
        return self._rand() * min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))

    def invoke(self, endpoint_name: str, request: WireRequest) -> bytes:
        from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

        for attempt in range(1, self.max_attempts + 1):
            self.last_attempts = attempt
            try:
                response = self.client.invoke_endpoint(
                    EndpointName=endpoint_name,
                    Body=request.body,
                    ContentType=request.content_type,
                    Accept=request.accept,
                )
                return response["Body"].read()
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in _RETRYABLE and attempt < self.max_attempts:
                    self._sleep(self._backoff(attempt))
                    continue
                if self._endpoint_missing(code, exc):
                    if self.waker and self.waker.wakeable(endpoint_name):
                        raise self.waker.wake(endpoint_name) from exc
                    raise self._unavailable(endpoint_name) from exc
                raise self._map(code, exc) from exc
            except ReadTimeoutError as exc:
                raise ModelTimeout("the model did not answer in time") from exc
            except ConnectionError as exc:
                raise ModelNotReady("the model endpoint is unreachable",
                                    retry_after=RETRY_AFTER_UNAVAILABLE_S) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _endpoint_missing(code: str, exc: Exception) -> bool:
        if code != "ValidationError":
            return False
        message = exc.response.get("Error", {}).get("Message", "")  # type: ignore[attr-defined]
        return _ENDPOINT_MISSING.match(message) is not None

    def _unavailable(self, endpoint_name: str) -> ModelUnavailable:
        """A model that does not sleep has no endpoint: deleted by hand or a failed
        deploy. The caller learns the model name only; the log names the endpoint."""
        model = self.model_names.get(endpoint_name)
        self.logger.error("model endpoint not found", extra={
            "error": "model_unavailable", "model": model, "endpoint_name": endpoint_name})
        subject = f"model {model}" if model else "the model"
        return ModelUnavailable(f"{subject} is not available right now",
                                retry_after=RETRY_AFTER_MISSING_ENDPOINT_S)

    def _map(self, code: str, exc: Exception) -> Exception:
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
        # bug, not the caller's: a logged 500.
        return exc
