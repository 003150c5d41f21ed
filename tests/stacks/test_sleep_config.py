"""Refusals of `endpoints[].sleep`: each names the field path and what is allowed."""

from __future__ import annotations

import copy

import pytest

from stacks.config import ConfigError, load_config, parse_config

BASE = {"endpoints": [{"model_id": "huggingface-llm-falcon-7b-instruct-bf16", "instance_type": "ml.g5.2xlarge"}]}
SCHEDULE = {"timezone": "Europe/Berlin", "wake_cron": "0 8 ? * MON-FRI *", "sleep_cron": "0 19 ? * MON-FRI *"}
EXAMPLE = "e.g. '0 8 ? * MON-FRI *' (minutes hours day-of-month month day-of-week year)"


def with_sleep(sleep: dict, **endpoint) -> dict:
    data = copy.deepcopy(BASE)
    data["endpoints"][0].update(sleep=sleep, **endpoint)
    return data


def schedule(**changes) -> dict:
    return {"schedule": {**SCHEDULE, **changes}}


def test_sleep_is_off_by_default():
    assert all(e.sleep is None for e in load_config().endpoints)


def test_sleepy_example_parses_with_schedule_and_idle_rule():
    config = load_config("config/examples/sleepy.yaml")
    sleep = config.endpoints[0].sleep
    assert (sleep.schedule.timezone, sleep.schedule.wake_cron, sleep.schedule.sleep_cron, sleep.idle_after_hours) == (
        "Europe/Berlin", "0 8 ? * MON-FRI *", "0 19 ? * MON-FRI *", 2)


@pytest.mark.parametrize(
    ("sleep", "expected"),
    [
        (schedule(timezone="Europe/Berln"),
         "endpoints[0].sleep.schedule.timezone: unknown time zone 'Europe/Berln'; use an IANA "
         "name such as Europe/Berlin, America/New_York or UTC"),
        (schedule(timezone="CEST"),
         "endpoints[0].sleep.schedule.timezone: unknown time zone 'CEST'; use an IANA "
         "name such as Europe/Berlin, America/New_York or UTC"),
        (schedule(wake_cron="0 8 * * *"),
         f"endpoints[0].sleep.schedule.wake_cron: '0 8 * * *' is not an EventBridge Scheduler "
         f"cron expression; {EXAMPLE}"),
        (schedule(sleep_cron="0 19 * * MON-FRI *"),
         "endpoints[0].sleep.schedule.sleep_cron: '0 19 * * MON-FRI *': exactly one of "
         f"day-of-month and day-of-week must be '?'; {EXAMPLE}"),
        (schedule(wake_cron="0 24 ? * MON-FRI *"),
         f"endpoints[0].sleep.schedule.wake_cron: '0 24 ? * MON-FRI *': hours must be 0-23; {EXAMPLE}"),
        (schedule(wake_cron="60 8 ? * MON-FRI *"),
         f"endpoints[0].sleep.schedule.wake_cron: '60 8 ? * MON-FRI *': minutes must be 0-59; {EXAMPLE}"),
        (schedule(sleep_cron="0 8 ? * MON-FRI *"),
         "endpoints[0].sleep.schedule: wake_cron and sleep_cron must differ, both are "
         "'0 8 ? * MON-FRI *'"),
        ({"schedule": {"timezone": "UTC", "wake_cron": "0 8 ? * MON-FRI *"}},
         "endpoints[0].sleep.schedule.sleep_cron: Field required"),
        ({"idle_after_hours": 0}, "endpoints[0].sleep.idle_after_hours: Input should be greater than or equal to 1"),
        ({"idle_after_hours": 169}, "endpoints[0].sleep.idle_after_hours: Input should be less than or equal to 168"),
        ({}, "endpoints[0].sleep: set schedule, idle_after_hours or both (or drop sleep to keep the "
             "endpoint up)"),
        ({"idle_hours": 2}, "endpoints[0].sleep.idle_hours: unknown field; allowed: schedule, idle_after_hours"),
        ({"schedule": {**SCHEDULE, "tz": "UTC"}},
         "endpoints[0].sleep.schedule.tz: unknown field; allowed: timezone, wake_cron, sleep_cron"),
    ],
)
def test_sleep_refusals_name_the_field(sleep, expected):
    with pytest.raises(ConfigError) as err:
        parse_config(with_sleep(sleep))
    assert str(err.value) == expected


def test_sleep_with_autoscaling_is_refused():
    # Given autoscaling, which DeleteEndpoint would silently deregister for good
    data = with_sleep({"idle_after_hours": 2}, autoscaling={"min_capacity": 1, "max_capacity": 2})
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert str(err.value) == (
        "endpoints[0].sleep: cannot be combined with autoscaling: deleting an endpoint "
        "deregisters its scalable target, so a recreated endpoint would not scale; remove autoscaling or sleep"
    )


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_any_iana_time_zone_is_accepted(tz):
    config = parse_config(with_sleep(schedule(timezone=tz)))
    assert config.endpoints[0].sleep.schedule.timezone == tz
