"""Environment (docs/contracts.md) read once per cold start, and the AWS clients built from it.

Model lookup reuses the front door's ``Catalog`` so MODELS_JSON has one parser
and clients see the same model names and errors on every route.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from frontdoor.errors import ConfigError
from frontdoor.services.catalog import Catalog, ModelSpec
from summarizer.jobs import JobStore
from summarizer.mapreduce import Generate, ModelLimits, SummarizeConfig
from summarizer.sagemaker import make_generate, runtime_client

from summarizer.limits import MAX_INLINE_TEXT_BYTES, MAX_S3_INPUT_BYTES  # noqa: F401 (re-exported)


@dataclass(frozen=True)
class Settings:
    models_json: str
    jobs_table: str | None
    jobs_queue_url: str | None
    jobs_bucket: str | None
    max_concurrency: int
    # Estimated seconds of model work POST /v1/summarize may do before answering
    # 202 (API Gateway gives up at 29 s); lower it to send medium documents async.
    sync_budget_s: float = 25.0

    @classmethod
    def from_env(cls, environ=os.environ) -> Settings:
        raw = environ.get("SUMMARIZE_MAX_CONCURRENCY", "8")
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
            models_json=environ.get("MODELS_JSON", "[]"),
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

    def __init__(self, settings: Settings, *, store: JobStore | None = None, runtime=None):
        self.settings = settings
        self.catalog = Catalog.from_json(settings.models_json)
        self.config = SummarizeConfig(max_concurrency=settings.max_concurrency)
        self._runtime = runtime
        self._store = store

    @property
    def store(self) -> JobStore | None:
        if self._store is None and self.settings.jobs_enabled:
            # boto3 costs ~120 ms to import; the front door's cold start must not pay it
            # before a route needs a client (frontdoor.adapters does the same).
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
        if self._runtime is None:
            self._runtime = runtime_client(self.settings.max_concurrency)
        return self

    def limits(self, spec: ModelSpec) -> ModelLimits:
        return ModelLimits(spec.max_input_length or 1024, spec.max_total_tokens or 2048)

    def generate_for(self, spec: ModelSpec, waker=None) -> Generate:
        """The model call for ``spec``; ``waker`` (the front door's) starts a sleeping model."""
        if self._runtime is None:
            self._runtime = runtime_client(self.settings.max_concurrency)
        return make_generate(spec.endpoint_name, spec.family, self._runtime, model=spec.name,
                             wakeable=spec.wakeable, waker=waker)


@lru_cache(maxsize=1)
def default_services() -> Services:
    return Services(Settings.from_env())
