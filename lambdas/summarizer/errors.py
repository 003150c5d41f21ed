"""Errors the summarizer distinguishes.

The ``generate`` callable injected into the map-reduce raises the ``Model*``
errors; whatever adapter produces them (ours in ``sagemaker`` or the front
door's) only has to decide which of the three buckets a failure falls in.
"""

from __future__ import annotations


class SummarizerError(Exception):
    """Base class for every error this package raises on purpose."""


class InvalidInput(SummarizerError):
    """The request itself is wrong (empty text, unknown model, bad style)."""


class ModelInputTooLong(SummarizerError):
    """The model refused the prompt as too long (TGI 422 wrapped in a 424).

    Args:
        message: the model's own message, kept verbatim for the error chain.
        input_tokens: the true ``inputs`` token count stated by the model, when
            the message states it; used to recalibrate the estimator.
    """

    def __init__(self, message: str, input_tokens: int | None = None):
        super().__init__(message)
        self.input_tokens = input_tokens


class RetryableModelError(SummarizerError):
    """Throttling, endpoint not ready, 5xx, timeouts: worth another try."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class ModelCallError(SummarizerError):
    """A model failure that another identical try will not fix."""


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


class ModelUnavailableError(ModelCallError):
    """The model cannot answer during this request and retrying will not help
    (asleep and being started, or its endpoint is gone).

    Args:
        message: client-safe text naming the model.
        code: the error code clients see (``model_asleep``...).
        error: the front door's error to answer with (503 + Retry-After), when
            the request came through the API.
    """

    def __init__(self, message: str, code: str = "model_unavailable", error: Exception | None = None):
        super().__init__(message)
        self.code = code
        self.error = error
