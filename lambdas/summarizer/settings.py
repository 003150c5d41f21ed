"""Environment (docs/contracts.md) read once per cold start, and the AWS clients built from it.

Models come from ``inference.environment`` (the one MODELS_JSON reader), so the
worker and the API see the same model names and errors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from typing import Any

from inference.catalog import Catalog, ModelSpec
from inference.environment import models_catalog
from inference.errors import ConfigError
from inference.runtime import LONG_READ_TIMEOUT_S, SageMakerRuntime
from summarizer.jobs import MAX_DELAY_S, JobStore
from summarizer.run_config import Generate, ModelLimits, SummarizeConfig
from summarizer.model import make_generate

# An async job whose model is scaling out from zero copies (an inference component
# scaled to zero) runs again every CAPACITY_RETRY_S (its message's DelaySeconds, at
# most 900) for at most CAPACITY_WAIT_S in all: a first copy takes ~5 minutes
# (inference.runtime.SCALE_OUT_MINUTES), more when the instance type is short.
CAPACITY_RETRY_S = 60
CAPACITY_WAIT_S = 30 * 60


def _int_env(environ, name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be within {low}..{high}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    jobs_table: str | None
    jobs_queue_url: str | None
    jobs_bucket: str | None
    max_concurrency: int
    # Estimated seconds of model work POST /v1/summarize may do before answering
    # 202 (API Gateway gives up at 29 s); lower it to send medium documents async.
    sync_budget_s: float = 25.0
    # Async jobs whose model scales out from zero copies (worker.Worker).
    capacity_retry_s: int = CAPACITY_RETRY_S
    capacity_wait_s: int = CAPACITY_WAIT_S

    @classmethod
    def from_env(cls, environ=os.environ) -> Settings:
        raw = environ.get("SUMMARIZE_MAX_CONCURRENCY", str(SummarizeConfig.max_concurrency))
        try:
            concurrency = int(raw)
        except ValueError:
            raise ConfigError(f"SUMMARIZE_MAX_CONCURRENCY must be an integer, got {raw!r}") from None
        if not 1 <= concurrency <= 64:
            raise ConfigError(f"SUMMARIZE_MAX_CONCURRENCY must be within 1..64, got {concurrency}")
        raw_budget = environ.get("SUMMARIZE_SYNC_BUDGET_S", "25")
        try:
            budget = float(raw_budget)
        except ValueError:
            raise ConfigError(f"SUMMARIZE_SYNC_BUDGET_S must be a number, got {raw_budget!r}") from None
        if not 0 < budget <= 25:
            raise ConfigError(f"SUMMARIZE_SYNC_BUDGET_S must be within (0, 25], got {budget}")
        return cls(
            sync_budget_s=budget,
            capacity_retry_s=_int_env(environ, "SUMMARIZE_CAPACITY_RETRY_S", CAPACITY_RETRY_S, 1, MAX_DELAY_S),
            capacity_wait_s=_int_env(environ, "SUMMARIZE_CAPACITY_WAIT_S", CAPACITY_WAIT_S, 1, 24 * 3600),
            jobs_table=environ.get("JOBS_TABLE_NAME") or None,
            jobs_queue_url=environ.get("JOBS_QUEUE_URL") or None,
            jobs_bucket=environ.get("JOBS_BUCKET_NAME") or None,
            max_concurrency=concurrency,
        )

    @property
    def jobs_enabled(self) -> bool:
        return bool(self.jobs_table and self.jobs_queue_url and self.jobs_bucket)


class Services:
    """What routes and the worker need, built once and shared by warm invocations.

    Holds only immutable configuration and thread-safe boto3 clients.
    """

    def __init__(self, settings: Settings, *, catalog: Catalog | None = None, store: JobStore | None = None,
                 runtime: SageMakerRuntime | None = None, waker: Any = None):
        """``waker``: the API's ``EndpointWaker`` (starts sleeping models); the worker has none."""
        self.settings = settings
        self.catalog = catalog if catalog is not None else models_catalog()
        self.config = SummarizeConfig(max_concurrency=settings.max_concurrency)
        # One invocation per model call: the map-reduce retries each call itself, and
        # the client waits as long as SageMaker lets an invocation run.
        self.runtime = runtime or SageMakerRuntime.for_models(
            self.catalog.models, waker=waker, max_attempts=1, read_timeout_s=LONG_READ_TIMEOUT_S,
            max_pool_connections=max(10, settings.max_concurrency + 2))
        self._store = store

    @property
    def store(self) -> JobStore | None:
        if self._store is None and self.settings.jobs_enabled:
            # boto3 costs ~120 ms to import; the front door's cold start must not pay it
            # before a route needs a client (inference.clients does the same).
            import boto3

            s = self.settings
            self._store = JobStore(
                boto3.resource("dynamodb").Table(s.jobs_table), boto3.client("s3"), s.jobs_bucket,
                boto3.client("sqs"), s.jobs_queue_url,
            )
        return self._store

    def warm(self) -> Services:
        """Build every AWS client now (the local server restores the environment after)."""
        _ = self.store
        _ = self.runtime.client
        return self

    def limits(self, spec: ModelSpec) -> ModelLimits:
        default = ModelLimits()
        return ModelLimits(spec.max_input_length or default.max_input_length,
                           spec.max_total_tokens or default.max_total_tokens)

    def generate_for(self, spec: ModelSpec) -> Generate:
        return make_generate(spec.endpoint_name, spec.family, self.runtime, spec.inference_component)


@lru_cache(maxsize=1)
def default_services() -> Services:
    return Services(Settings.from_env())
