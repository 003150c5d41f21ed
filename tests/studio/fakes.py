"""Test doubles the custom-resource handler tests share: a fake clock and real
boto3 clients (for botocore's Stubber) that never reach AWS."""

from __future__ import annotations

import boto3


def client(service: str):
    return boto3.client(
        service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


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
