from __future__ import annotations

import pytest

from bench.summarize_bench import make_document


@pytest.fixture(scope="session")
def long_document() -> str:
    """~50k words, 100 pages: the benchmark's document."""
    return make_document(pages=100)


@pytest.fixture(scope="session")
def short_document() -> str:
    """~10 pages: enough for several map chunks and a collapse round."""
    return make_document(pages=10, seed=3)
