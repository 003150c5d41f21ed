"""Errors the summarizer raises on its own account.

Model failures are ``inference.errors`` and are not re-wrapped: the map-reduce
retries the ``retryable`` ones, re-splits on a 422 about length, and otherwise
fails the whole summary with ``ChunkFailed`` carrying the model error as its
``cause``. The front door maps both to HTTP (``frontdoor.errors``).
"""

from __future__ import annotations


class SummarizerError(Exception):
    """Base class for every error this package raises on purpose."""


class InvalidInput(SummarizerError):
    """The request itself is wrong (empty text, a family that cannot summarize, bad style)."""


class ChunkFailed(SummarizerError):
    """One piece of work failed for good, so the whole summary fails.

    The message always names the stage and the chunk index so the caller
    (and the job record) can say exactly what was not summarized.
    """

    def __init__(self, stage: str, index: int, cause: BaseException, attempts: int):
        self.stage = stage
        self.index = index
        self.cause = cause
        self.attempts = attempts
        super().__init__(
            f"{stage} chunk {index} failed after {attempts} attempt(s): "
            f"{type(cause).__name__}: {cause}"
        )


class DeadlineExceeded(SummarizerError):
    """The caller's time budget ran out; finished work is checkpointed."""
