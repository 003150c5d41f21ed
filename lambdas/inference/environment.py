"""The one reader of MODELS_JSON (docs/contracts.md): the models every function
of the asset talks to, validated at cold start so a bad value fails init."""

from __future__ import annotations

import os
from typing import Mapping

from inference.catalog import Catalog
from inference.errors import ConfigError


def models_catalog(environ: Mapping[str, str] = os.environ) -> Catalog:
    raw = environ.get("MODELS_JSON", "")
    if len(raw) < 2:
        raise ConfigError("MODELS_JSON must be set to the JSON list of configured models")
    return Catalog.from_json(raw)
