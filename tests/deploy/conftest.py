"""The deploy-contract tests' one fixture; what they share lives in `tests.deploy.model`."""

from __future__ import annotations

import pytest

from tests.deploy.model import CONFIG_NAMES, Deployment, load


@pytest.fixture(scope="session", params=CONFIG_NAMES)
def deployment(request) -> Deployment:
    """Every test that takes this fixture runs once per shipped config."""
    return load(request.param)
