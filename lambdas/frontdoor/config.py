"""Environment validated once at cold start, and the services built from it.

A bad MODELS_JSON or EXTRA_TEMPLATES_JSON fails the Lambda's init with a message
naming the field, instead of failing every request later.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from frontdoor.errors import ConfigError
from frontdoor.adapters.feedback_store import DynamoFeedbackStore
from frontdoor.adapters.sagemaker_control import EndpointWaker, WakeTarget
from frontdoor.adapters.sagemaker_runtime import SageMakerRuntimeInvoker
from frontdoor.observability import logger
from frontdoor.services.catalog import Catalog
from frontdoor.services.generation import ImageService, TextService
from frontdoor.services.templating import TemplateRegistry


@dataclass(frozen=True)
class Environment:
    """The variables of docs/contracts.md this module reads. A plain dataclass: a
    pydantic model here would build its schema in every cold start (~8 ms)."""

    models_json: str
    extra_templates_json: str | None = None
    feedback_table_name: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str]) -> Environment:
        models_json = environ.get("MODELS_JSON", "")
        if len(models_json) < 2:
            raise ConfigError("MODELS_JSON must be set to the JSON list of configured models")
        return cls(models_json, environ.get("EXTRA_TEMPLATES_JSON") or None,
                   environ.get("FEEDBACK_TABLE_NAME") or None)


@dataclass(frozen=True)
class Runtime:
    env: Environment
    catalog: Catalog
    templates: TemplateRegistry
    text: TextService
    images: ImageService
    feedback: DynamoFeedbackStore | None
    invoker: SageMakerRuntimeInvoker


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    env = Environment.from_env(dict(os.environ))
    catalog = Catalog.from_json(env.models_json)
    templates = TemplateRegistry.load(env.extra_templates_json)
    waker = EndpointWaker([WakeTarget(m.name, m.endpoint_name, m.endpoint_config_parameter)
                           for m in catalog.models if m.wakeable and m.endpoint_config_parameter])
    invoker = SageMakerRuntimeInvoker(waker=waker or None, logger=logger,
                                      model_names={m.endpoint_name: m.name for m in catalog.models})
    feedback = DynamoFeedbackStore(env.feedback_table_name) if env.feedback_table_name else None
    return Runtime(env, catalog, templates, TextService(catalog, templates, invoker),
                   ImageService(catalog, invoker), feedback, invoker)


def reset() -> None:
    """Forget the cached runtime (tests and the local server change the environment)."""
    runtime.cache_clear()
