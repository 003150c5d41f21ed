"""Fixtures shared by the tools tests."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from tests.tools.preflight_stubs import session
from tools import preflight


@pytest.fixture
def stubbed():
    """Real clients for a region with an active Stubber each; every queued response must be used."""
    stubbers: list[Stubber] = []

    def make(region: str) -> tuple[dict, dict[str, Stubber]]:
        s = session(region)
        clients = {name: s.client(name, region_name=region) for name in preflight.CLIENTS}
        stubs = {name: Stubber(client) for name, client in clients.items()}
        for stub in stubs.values():
            stub.activate()
        stubbers.extend(stubs.values())
        return clients, stubs

    yield make
    for stub in stubbers:
        stub.assert_no_pending_responses()
        stub.deactivate()
