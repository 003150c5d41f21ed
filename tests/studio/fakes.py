"""Test doubles the custom-resource handler tests share: a fake clock and real
boto3 clients (for botocore's Stubber) that never reach AWS."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
from botocore.stub import Stubber


def client(service: str):
    return boto3.client(
        service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def stubbed(*services: str) -> Iterator[tuple[dict, dict[str, Stubber]]]:
    """For a fixture: a client per service with an active Stubber each; every queued answer must be used."""
    clients = {name: client(name) for name in services}
    stubs = {name: Stubber(c) for name, c in clients.items()}
    for stub in stubs.values():
        stub.activate()
    yield clients, stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


class Clock:
    """`clock()` returns the fake time; `clock.sleep(s)` records the sleep and advances it."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
