"""Environment validated once at cold start, and the services built from it.

A bad MODELS_JSON or EXTRA_TEMPLATES_JSON fails the Lambda's init with a message
naming the field, instead of failing every request later.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from frontdoor.adapters.feedback_store import DynamoFeedbackStore
from frontdoor.services.generation import ImageService, TextService
from frontdoor.services.templating import TemplateRegistry
from inference.catalog import Catalog
from inference.errors import ConfigError
from inference.control import EndpointWaker
from inference.environment import models_catalog
from inference.observability import logger
from inference.runtime import SageMakerRuntime

if TYPE_CHECKING:
    from summarizer.settings import Services

DEFAULT_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = 3650


@dataclass(frozen=True)
class Environment:
    """The variables of docs/contracts.md the front door reads besides MODELS_JSON.
    A plain dataclass: a pydantic model here would build its schema in every cold
    start (~8 ms)."""

    extra_templates_json: str | None = None
    feedback_table_name: str | None = None
    # Keep each text generation's prompt and outputs for feedback to join (user data;
    # config api.feedback.store_generations, off by default) for this many days.
    store_generations: bool = False
    retention_days: int = DEFAULT_RETENTION_DAYS

    @classmethod
    def from_env(cls, environ: dict[str, str]) -> Environment:
        store = (environ.get("FEEDBACK_STORE_GENERATIONS") or "false").strip().lower()
        if store not in ("true", "false"):
            raise ConfigError(f"FEEDBACK_STORE_GENERATIONS must be 'true' or 'false', got {store!r}")
        raw_days = environ.get("FEEDBACK_RETENTION_DAYS") or str(DEFAULT_RETENTION_DAYS)
        try:
            days = int(raw_days)
        except ValueError:
            raise ConfigError(f"FEEDBACK_RETENTION_DAYS must be an integer, got {raw_days!r}") from None
        if not 1 <= days <= MAX_RETENTION_DAYS:
            raise ConfigError(f"FEEDBACK_RETENTION_DAYS must be within 1..{MAX_RETENTION_DAYS}, got {days}")
        # Without a table (a local run without moto) nothing is stored, whatever the flag.
        return cls(environ.get("EXTRA_TEMPLATES_JSON") or None, environ.get("FEEDBACK_TABLE_NAME") or None,
                   store == "true", days)


@dataclass(frozen=True)
class Runtime:
    env: Environment
    catalog: Catalog
    templates: TemplateRegistry
    text: TextService
    images: ImageService
    feedback: DynamoFeedbackStore | None
    invoker: SageMakerRuntime
    waker: EndpointWaker | None = None
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def summaries(self) -> Services:
        """The summarizer's services, built on the first summarize/jobs/uploads request:
        its machinery (map-reduce, job store) is not paid for in every cold start."""
        if "summaries" not in self._cache:
            from summarizer.settings import Services, Settings

            self._cache["summaries"] = Services(Settings.from_env(), catalog=self.catalog, waker=self.waker)
        return self._cache["summaries"]


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    env = Environment.from_env(dict(os.environ))
    catalog = models_catalog()
    templates = TemplateRegistry.load(env.extra_templates_json)
    waker = EndpointWaker.for_models(catalog.models) or None
    invoker = SageMakerRuntime.for_models(catalog.models, waker=waker, logger=logger)
    feedback = DynamoFeedbackStore(env.feedback_table_name) if env.feedback_table_name else None
    return Runtime(env, catalog, templates, TextService(catalog, templates, invoker),
                   ImageService(catalog, invoker), feedback, invoker, waker)


def reset() -> None:
    """Forget the cached runtime (tests and the local server change the environment)."""
    runtime.cache_clear()
