"""Wake a sleeping model: the SageMaker control plane (and SSM) behind one small class,
and the one reader of DescribeEndpoint.

Flow, after an invocation answered "Endpoint ... not found" for a wakeable model:
DescribeEndpoint; if there is no endpoint, read the current endpoint config name
from the model's SSM parameter and CreateEndpoint with the same EndpointName.
Idempotent: if the endpoint is already Creating (another request or a schedule
was first), nothing is created; a lost CreateEndpoint race ("Cannot create
already existing endpoint") is treated the same way. Either way the caller gets a
503 with Retry-After (``inference.wake.verdict``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from inference.clients import new_client
from inference.errors import ModelAsleep, ModelNotReady
from inference.observability import logger
from inference.wake import JUST_WOKEN_RETRY_S, verdict

NOT_FOUND = "Could not find endpoint"
ALREADY_EXISTS = "Cannot create already existing endpoint"
_THROTTLED = frozenset({"ThrottlingException", "ThrottledException"})


@dataclass(frozen=True)
class WakeTarget:
    model: str
    endpoint_name: str
    config_parameter: str


def _error(exc: Exception) -> tuple[str, str]:
    error = getattr(exc, "response", {}).get("Error", {})
    return error.get("Code", ""), error.get("Message", "")


def endpoint_not_found(exc: Exception) -> bool:
    """SageMaker's control-plane answer for an endpoint that does not exist (normal
    for a sleeping model): ValidationException "Could not find endpoint ..."."""
    code, message = _error(exc)
    return code == "ValidationException" and NOT_FOUND in message


def describe_endpoint(sagemaker: Any, endpoint_name: str) -> dict[str, Any] | None:
    """DescribeEndpoint's response, or None when there is no such endpoint."""
    from botocore.exceptions import ClientError

    try:
        return sagemaker.describe_endpoint(EndpointName=endpoint_name)
    except ClientError as exc:
        if endpoint_not_found(exc):
            return None
        raise


class EndpointWaker:
    """Knows which endpoints may be woken and wakes them; clients are created lazily."""

    def __init__(
        self,
        targets: list[WakeTarget],
        sagemaker: Any = None,
        ssm: Any = None,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._targets = {t.endpoint_name: t for t in targets}
        self._sagemaker = sagemaker
        self._ssm = ssm
        self._now = now

    @classmethod
    def for_models(cls, models: Iterable[Any], **kwargs: Any) -> EndpointWaker:
        """A waker for the catalog's sleeping models (``inference.catalog.ModelSpec``)."""
        return cls([WakeTarget(m.name, m.endpoint_name, m.endpoint_config_parameter)
                    for m in models if m.wakeable and m.endpoint_config_parameter], **kwargs)

    def __bool__(self) -> bool:
        return bool(self._targets)

    @property
    def sagemaker(self) -> Any:
        if self._sagemaker is None:
            self._sagemaker = new_client("sagemaker", connect_timeout=2, read_timeout=5,
                                         retries={"mode": "standard", "total_max_attempts": 2})
        return self._sagemaker

    @property
    def ssm(self) -> Any:
        if self._ssm is None:
            self._ssm = new_client("ssm", connect_timeout=2, read_timeout=5,
                                   retries={"mode": "standard", "total_max_attempts": 2})
        return self._ssm

    def wakeable(self, endpoint_name: str) -> bool:
        return endpoint_name in self._targets

    def wake(self, endpoint_name: str) -> ModelNotReady:
        """Start the endpoint if it is gone; return the 503 to answer with."""
        from botocore.exceptions import ClientError

        target = self._targets[endpoint_name]
        try:
            status, since = self._describe(endpoint_name)
            decision = verdict(target.model, status, since, self._now())
            if decision.create:
                self._create(target)
                logger.info("waking model", extra={"model": target.model})
        except ClientError as exc:
            code, _ = _error(exc)
            if code not in _THROTTLED:
                raise
            # Nothing was started; the caller's next try, seconds later, tries again.
            return ModelAsleep(f"model {target.model} is asleep; retry in a few seconds to start it",
                               retry_after=JUST_WOKEN_RETRY_S)
        error = ModelAsleep if decision.code == "model_asleep" else ModelNotReady
        return error(decision.message, retry_after=decision.retry_after_s)

    def ensure_awake(self, endpoint_name: str) -> None:
        """Before long work: raise the 503 to answer with if the endpoint is not
        InService, starting it if it is gone. A throttled control plane is not a
        verdict: the model calls will tell."""
        from botocore.exceptions import ClientError

        try:
            status, _ = self._describe(endpoint_name)
        except ClientError as exc:
            if _error(exc)[0] in _THROTTLED:
                return
            raise
        if status != "InService":
            raise self.wake(endpoint_name)

    def _describe(self, endpoint_name: str) -> tuple[str | None, datetime | None]:
        response = describe_endpoint(self.sagemaker, endpoint_name)
        if response is None:
            return None, None
        return response["EndpointStatus"], response.get("CreationTime")

    def _create(self, target: WakeTarget) -> None:
        from botocore.exceptions import ClientError

        # Read on every wake: a deploy replaces the config (and deletes the old one)
        # without touching this function.
        config_name = self.ssm.get_parameter(Name=target.config_parameter)["Parameter"]["Value"]
        try:
            self.sagemaker.create_endpoint(EndpointName=target.endpoint_name, EndpointConfigName=config_name)
        except ClientError as exc:
            code, message = _error(exc)
            if code == "ValidationException" and ALREADY_EXISTS in message:
                return  # lost the race to another request or the wake schedule
            raise


def wake_if_asleep(waker: EndpointWaker | None, spec: Any) -> None:
    """Before a route accepts work for a model (``inference.catalog.ModelSpec``): raise
    the 503 to answer with if it sleeps (``EndpointWaker.ensure_awake``), starting it."""
    if spec.wakeable and waker is not None and waker.wakeable(spec.endpoint_name):
        waker.ensure_awake(spec.endpoint_name)
