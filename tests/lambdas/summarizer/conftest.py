from __future__ import annotations

import pytest
from moto import mock_aws

from bench.documents import make_document
from summarizer_aws import Clock


@pytest.fixture(scope="session")
def long_document() -> str:
    """~50k words, 100 pages: the benchmark's document."""
    return make_document(pages=100)


@pytest.fixture(scope="session")
def short_document() -> str:
    """~10 pages: enough for several map chunks and a collapse round."""
    return make_document(pages=10, seed=3)


@pytest.fixture
def aws(monkeypatch):
    """In-process moto for the jobs table, queue and bucket, with fake credentials."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def clock():
    return Clock()
