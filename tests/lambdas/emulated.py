"""The SageMaker runtime emulator for one test module, and the boto3 client the front
door and the summarizer call it with (fake credentials, one attempt: the code under test
does its own retrying)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from local.emulator.models import EndpointConfig
from local.emulator.server import Emulator


def serve(*endpoints: EndpointConfig) -> Iterator[Emulator]:
    """For a fixture: the emulator serving these endpoints, stopped afterwards."""
    emu = Emulator(list(endpoints)).start()
    yield emu
    emu.stop()


def runtime_client(url: str, monkeypatch: pytest.MonkeyPatch, **config: Any):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return boto3.client("sagemaker-runtime", region_name="us-east-1", endpoint_url=url,
                        config=Config(retries={"total_max_attempts": 1}, **config))
