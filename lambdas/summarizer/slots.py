"""Bounded model calls in flight, and how the first real failure stops the rest."""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any, Callable

from summarizer.errors import SummarizerError


class Cancelled(Exception):
    """A sibling call failed; stop quietly so the real error surfaces."""


class Slots:
    """At most ``size`` model calls in flight on one pool; the first real failure stops them all."""

    def __init__(self, abort: threading.Event, size: int):
        self._abort = abort
        self._size = max(1, size)
        self._pool = ThreadPoolExecutor(max_workers=self._size)
        self._pending: dict = {}

    def free(self) -> bool:
        return len(self._pending) < self._size

    def busy(self) -> bool:
        return bool(self._pending)

    def submit(self, tag: Any, fn: Callable, *args: Any) -> None:
        self._pending[self._pool.submit(fn, *args)] = tag

    def next_done(self) -> list[tuple[Any, Any]]:
        """(tag, result) of the calls that finished; raises the first failure."""
        finished, _ = wait(self._pending, return_when=FIRST_COMPLETED)
        results = []
        for fut in finished:
            tag = self._pending.pop(fut)
            exc = fut.exception()
            if exc is not None:
                self._abort.set()
                raise self._surface(exc)
            results.append((tag, fut.result()))
        return results

    def _surface(self, exc: BaseException) -> BaseException:
        """Prefer a real failure over the cancellations it caused in siblings."""
        if not isinstance(exc, Cancelled):
            return exc
        for fut in self._pending:
            if fut.cancelled():
                continue
            other = fut.exception()  # waits: siblings stop at their next attempt
            if other is not None and not isinstance(other, Cancelled):
                return other
        return SummarizerError("stage cancelled")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
