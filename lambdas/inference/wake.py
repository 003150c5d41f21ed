"""What to tell a caller of a sleeping model, and whether to start it: pure, no AWS.

A sleeping model is one whose endpoint was deleted (by a schedule or the idle
sleeper) while its model and endpoint config were kept; CreateEndpoint with the
same name and config brings it back in about WAKE_MINUTES.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Typical time from CreateEndpoint to InService for a 7B model on a g5: instance
# provisioning, image pull, weight download and load.
WAKE_MINUTES = 10
# Deletion takes a minute or two; a new CreateEndpoint is refused until it is done.
SHUTDOWN_RETRY_S = 120
JUST_WOKEN_RETRY_S = 5
STARTING = frozenset({"Creating", "Updating", "SystemUpdating"})


@dataclass(frozen=True)
class WakeVerdict:
    create: bool
    message: str
    retry_after_s: int
    code: str = "model_asleep"


def starting_message(model: str, minutes: int) -> str:
    return f"model {model} is asleep; starting it, retry in ~{minutes} minutes"


def verdict(model: str, status: str | None, since: datetime | None, now: datetime) -> WakeVerdict:
    """Decide from DescribeEndpoint's status (None: no endpoint) and creation time."""
    if status is None:
        return WakeVerdict(True, starting_message(model, WAKE_MINUTES), WAKE_MINUTES * 60)
    if status in STARTING:
        elapsed = (now - since).total_seconds() / 60 if since else 0
        minutes = max(1, round(WAKE_MINUTES - elapsed))
        return WakeVerdict(False, starting_message(model, minutes), minutes * 60)
    if status == "Deleting":
        return WakeVerdict(
            False, f"model {model} is going to sleep; retry in ~2 minutes to wake it again", SHUTDOWN_RETRY_S
        )
    if status == "InService":
        # Came up between the failed invocation and this check.
        return WakeVerdict(False, f"model {model} has just woken up; retry now", JUST_WOKEN_RETRY_S,
                           code="model_not_ready")
    # Failed, OutOfService, RollingBack: waking will not help, an operator must look.
    return WakeVerdict(False, f"model {model} is unavailable (endpoint {status}) and needs an operator",
                       SHUTDOWN_RETRY_S, code="model_not_ready")
