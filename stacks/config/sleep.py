"""When a model's endpoint sleeps: working-hours schedules and the idle timeout."""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from stacks.config.base import StrictModel

# EventBridge Scheduler cron: minutes hours day-of-month month day-of-week year.
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/#-]+$")
_CRON_EXAMPLE = "e.g. '0 8 ? * MON-FRI *' (minutes hours day-of-month month day-of-week year)"


def _cron(expr: str) -> str:
    fields = expr.split()
    if len(fields) != 6 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(f"{expr!r} is not an EventBridge Scheduler cron expression; {_CRON_EXAMPLE}")
    minute, hour, dom, _, dow, _ = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError(f"{expr!r}: exactly one of day-of-month and day-of-week must be '?'; {_CRON_EXAMPLE}")
    for value, name, high in ((minute, "minutes", 59), (hour, "hours", 23)):
        numbers = [int(n) for n in re.findall(r"\d+", value)]
        if any(n > high for n in numbers):
            raise ValueError(f"{expr!r}: {name} must be 0-{high}; {_CRON_EXAMPLE}")
    return expr


def _timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin, America/New_York or UTC"
        ) from None
    return name


class SleepScheduleConfig(StrictModel):
    """Working hours: the endpoint is deleted at sleep_cron and recreated at wake_cron."""

    timezone: Annotated[str, AfterValidator(_timezone)] = Field(description="IANA time zone, e.g. Europe/Berlin")
    wake_cron: Annotated[str, AfterValidator(_cron)] = Field(description="when to recreate the endpoint")
    sleep_cron: Annotated[str, AfterValidator(_cron)] = Field(description="when to delete the endpoint")

    @model_validator(mode="after")
    def _distinct(self) -> "SleepScheduleConfig":
        if self.wake_cron.split() == self.sleep_cron.split():
            raise ValueError(f"wake_cron and sleep_cron must differ, both are {self.wake_cron!r}")
        return self


# An idle window longer than a week would rarely fire before the weekly schedules do.
IDLE_HOURS = (1, 168)


class SleepConfig(StrictModel):
    """Idle-cost controls; the model and endpoint config stay, only the endpoint (and
    its instances) goes, and a schedule, an API call or the CLI brings it back."""

    schedule: SleepScheduleConfig | None = Field(None, description="working hours (docs/idle-cost.md)")
    idle_after_hours: int | None = Field(
        None, ge=IDLE_HOURS[0], le=IDLE_HOURS[1], description="delete after this many hours without invocations"
    )

    @model_validator(mode="after")
    def _something_to_do(self) -> "SleepConfig":
        if self.schedule is None and self.idle_after_hours is None:
            raise ValueError("set schedule, idle_after_hours or both (or drop sleep to keep the endpoint up)")
        return self
