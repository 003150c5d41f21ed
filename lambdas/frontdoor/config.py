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
from inference.control import EndpointWaker
from inference.environment import models_catalog
from inference.observability import logger
from inference.runtime import SageMakerRuntime

if TYPE_CHECKING:
    from summarizer.settings import Services


@dataclass(frozen=True)
class Environment:
    """The variables of docs/contracts.md the front door reads besides MODELS_JSON.
    A plain dataclass: a pydantic model here would build its schema in every cold
    start (~8 ms)."""

    extra_templates_json: str | None = None
    feedback_table_name: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str]) -> Environment:
        return cls(environ.get("EXTRA_TEMPLATES_JSON") or None, environ.get("FEEDBACK_TABLE_NAME") or None)


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
