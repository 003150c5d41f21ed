"""How the config tests read a refusal: the ConfigError's text for a config that
parses or resolves to endpoints."""

from __future__ import annotations

import pytest

from stacks.config import ConfigError, parse_config
from stacks.models.jumpstart import resolve_endpoints


def refusal(data: dict) -> str:
    with pytest.raises(ConfigError) as err:
        resolve_endpoints(parse_config(data))
    return str(err.value)
