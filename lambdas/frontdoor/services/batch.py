"""Several calls to one model at once, bounded by what its endpoint can take.

Used by the batch routes (several inputs in one request, the notebook's loop over
prompts as one call) and by ``candidates`` (several samples of one prompt). Results
come back in input order; each call's failure is captured, not raised, so one bad
input does not sink the others.

Bounds: at most ``PER_INSTANCE`` calls in flight per instance of the endpoint (the
catalog's ``instance_count``; TGI batches concurrent requests, and the Falcon
notebook warns that many at once on one instance risk CUDA OOM), never more than
``MAX_WORKERS`` (the SageMaker runtime client keeps 10 pooled connections). An
input that has not started when the request's time budget is spent is not sent
at all: it fails alone with 504 ``model_timeout`` instead of the whole request
hitting the Lambda timeout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Generic, Sequence, TypeVar

from inference.errors import ModelTimeout

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 16
PER_INSTANCE = 4
MAX_WORKERS = 8
NOT_STARTED = "not run: the request's time budget ran out before this input started; send it again"


@dataclass(frozen=True)
class Outcome(Generic[R]):
    value: R | None = None
    error: Exception | None = None


def workers_for(instance_count: int | None, calls: int) -> int:
    """Calls in flight for ``calls`` calls to a model on ``instance_count`` instances."""
    return max(1, min(calls, MAX_WORKERS, PER_INSTANCE * max(1, instance_count or 1)))


def run_bounded(fn: Callable[[T], R], items: Sequence[T], *, workers: int, start_by: float | None = None,
                clock: Callable[[], float] = time.monotonic) -> list[Outcome[R]]:
    """``fn`` over ``items`` with at most ``workers`` at once, in input order.

    ``start_by`` (a ``clock()`` value): an item not started by then is not run and
    fails with ``ModelTimeout``.
    """

    def one(item: T) -> Outcome[R]:
        if start_by is not None and clock() > start_by:
            return Outcome(error=ModelTimeout(NOT_STARTED))
        try:
            return Outcome(value=fn(item))
        except Exception as exc:  # noqa: BLE001 - every failure is the item's own result
            return Outcome(error=exc)

    if workers <= 1 or len(items) <= 1:
        return [one(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor  # only batch requests pay for the import

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="frontdoor-batch") as pool:
        return list(pool.map(one, items))


def first_error(outcomes: Sequence[Outcome[Any]]) -> Exception | None:
    return next((o.error for o in outcomes if o.error is not None), None)
