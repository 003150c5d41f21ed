"""Waiting for SageMaker to finish deleting, and the errors that end a cleanup.

Every step is idempotent: a cleanup that runs out of time or finds a failed
deletion says what is left, and the next `cdk destroy` resumes.
"""

from __future__ import annotations

import logging
from typing import Callable

logger = logging.getLogger()

POLL_SECONDS = 15


class CleanupTimeout(RuntimeError):
    """Something was still deleting when time ran out; the message names what is left."""


class CleanupFailed(RuntimeError):
    """SageMaker reported a failed deletion; the message names it and SageMaker's reason."""


def wait_until_gone(
    what: str,
    remaining: Callable[[], list],
    deadline: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:
    while True:
        left = remaining()
        if not left:
            return
        if clock() >= deadline:
            raise CleanupTimeout(f"{len(left)} {what} still deleting: {sorted(left)}")
        logger.info("waiting for %d %s to be deleted", len(left), what)
        sleep(POLL_SECONDS)


def resume_hint() -> str:
    return "run `cdk destroy` again to resume (every step is idempotent)"
