"""The idle sleeper against a fake SageMaker/CloudWatch that behaves like AWS."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from idle_sleeper import handler
from idle_sleeper.policy import ConfigError, EndpointState, Watch, decide, parse_watches
from local.lambda_runtime import LocalContext
from tests.lambdas.fake_sagemaker import FakeCloudWatch, FakeSageMaker, client_error

WATCH = Watch("falcon-7b-instruct", "ep-falcon", "AllTraffic", idle_after_hours=2)


@pytest.fixture
def sm() -> FakeSageMaker:
    return FakeSageMaker()


def run(sm: FakeSageMaker, cw: FakeCloudWatch, watches=(WATCH,)):
    return handler.run(list(watches), sm, cw, now=lambda: sm.now)


def test_idle_endpoint_in_service_longer_than_the_window_is_deleted(sm):
    # Given an endpoint InService for 3 h with no invocation datapoints at all
    sm.add_endpoint("ep-falcon", "cfg-1", modified=sm.now - timedelta(hours=3))
    cw = FakeCloudWatch()
    # When the hourly check runs
    [outcome] = run(sm, cw)
    # Then it is deleted (model and config untouched) and the query covered exactly 2 h
    assert outcome == {"model": "falcon-7b-instruct", "endpoint": "ep-falcon", "sleep": True,
                       "reason": "no invocations in the last 2 h", "deleted": True}
    assert sm.endpoints["ep-falcon"].status == "Deleting"
    assert "cfg-1" in sm.configs
    [request] = cw.requests
    assert request["EndTime"] - request["StartTime"] == timedelta(hours=2)
    metric = request["MetricDataQueries"][0]["MetricStat"]
    assert metric["Metric"]["Namespace"] == "AWS/SageMaker"
    assert metric["Metric"]["MetricName"] == "Invocations"
    assert metric["Stat"] == "Sum"
    assert metric["Metric"]["Dimensions"] == [{"Name": "EndpointName", "Value": "ep-falcon"},
                                              {"Name": "VariantName", "Value": "AllTraffic"}]


def test_endpoint_with_invocations_in_the_window_stays(sm):
    sm.add_endpoint("ep-falcon", "cfg-1", modified=sm.now - timedelta(hours=5))
    cw = FakeCloudWatch({"ep-falcon": [(sm.now - timedelta(minutes=90), 3.0)]})
    [outcome] = run(sm, cw)
    assert outcome["sleep"] is False and outcome["reason"] == "3 invocations in the last 2 h"
    assert "DeleteEndpoint" not in sm.operations()


def test_invocations_before_the_window_do_not_count(sm):
    sm.add_endpoint("ep-falcon", "cfg-1", modified=sm.now - timedelta(hours=5))
    cw = FakeCloudWatch({"ep-falcon": [(sm.now - timedelta(hours=2, minutes=5), 40.0)]})
    [outcome] = run(sm, cw)
    assert outcome["sleep"] is True


def test_all_metric_pages_are_summed(sm):
    sm.add_endpoint("ep-falcon", "cfg-1", modified=sm.now - timedelta(hours=5))
    points = [(sm.now - timedelta(minutes=5 * i + 1), 0.0) for i in range(20)]
    points[-1] = (points[-1][0], 1.0)  # the only invocation is on the last page
    cw = FakeCloudWatch({"ep-falcon": points}, page_size=7)
    [outcome] = run(sm, cw)
    assert outcome["sleep"] is False
    assert len(cw.requests) == 3


def test_just_woken_endpoint_is_not_deleted_before_its_window_passed(sm):
    # Given an endpoint woken (InService) 30 minutes ago, no invocations yet
    sm.add_endpoint("ep-falcon", "cfg-1", modified=sm.now - timedelta(minutes=30))
    cw = FakeCloudWatch()
    [outcome] = run(sm, cw)
    # Then it stays, and CloudWatch is not even asked
    assert outcome["sleep"] is False
    assert outcome["reason"] == "changed 30 min ago, within the 2 h idle window"
    assert cw.requests == []


@pytest.mark.parametrize("status", ["Creating", "Updating", "SystemUpdating", "Deleting", "Failed", "RollingBack"])
def test_endpoints_not_in_service_are_left_alone(sm, status):
    sm.add_endpoint("ep-falcon", "cfg-1", status=status, modified=sm.now - timedelta(hours=9))
    [outcome] = run(sm, FakeCloudWatch())
    assert outcome == {"model": "falcon-7b-instruct", "endpoint": "ep-falcon", "sleep": False,
                       "reason": f"status is {status}, not InService"}
    assert sm.operations() == ["DescribeEndpoint"]


def test_sleeping_endpoint_is_already_asleep(sm):
    # DescribeEndpoint answers ValidationException "Could not find endpoint"
    [outcome] = run(sm, FakeCloudWatch())
    assert outcome["sleep"] is False and outcome["reason"] == "already asleep (no endpoint)"


def test_endpoint_deleted_between_describe_and_delete_counts_as_not_deleted(sm):
    sm.add_endpoint("ep-falcon", "cfg-1", modified=sm.now - timedelta(hours=3))
    sm.faults["DeleteEndpoint"] = sm._missing("ep-falcon", "DeleteEndpoint")
    [outcome] = run(sm, FakeCloudWatch())
    assert outcome["sleep"] is True and outcome["deleted"] is False


def test_one_failing_endpoint_does_not_stop_the_others_but_fails_the_run(sm):
    # Given two idle endpoints, and SageMaker throttling the first DescribeEndpoint
    other = Watch("flan-t5-xl", "ep-flan", "AllTraffic", idle_after_hours=1)
    sm.add_endpoint("ep-falcon", "cfg-1", modified=sm.now - timedelta(hours=3))
    sm.add_endpoint("ep-flan", "cfg-2", modified=sm.now - timedelta(hours=3))
    sm.faults["DescribeEndpoint"] = client_error("ThrottlingException", "Rate exceeded", "DescribeEndpoint")
    # When the run completes
    with pytest.raises(handler.RunFailed, match="idle check failed for: falcon-7b-instruct"):
        run(sm, FakeCloudWatch(), watches=(WATCH, other))
    # Then the second endpoint was still put to sleep
    assert sm.endpoints["ep-flan"].status == "Deleting"
    assert sm.endpoints["ep-falcon"].status == "InService"


def test_decide_treats_no_datapoints_as_zero():
    # SageMaker publishes no Invocations datapoint for a minute without calls.
    now = FakeSageMaker().now
    state = EndpointState("InService", now - timedelta(hours=4))
    assert decide(WATCH, state, None, now).sleep is True


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("nope", "ENDPOINTS_JSON is not valid JSON"),
        ("{}", "ENDPOINTS_JSON must be a JSON list"),
        ('[{"name": "a", "endpoint_name": "e", "variant_name": "AllTraffic", "idle_after_hours": 0}]',
         r"ENDPOINTS_JSON\[0\].idle_after_hours must be an integer 1-168, got 0"),
        ('[{"name": "a", "variant_name": "AllTraffic", "idle_after_hours": 2}]',
         r"ENDPOINTS_JSON\[0\].endpoint_name must be a non-empty string"),
    ],
)
def test_malformed_environment_is_refused(raw, message):
    with pytest.raises(ConfigError, match=message):
        parse_watches(raw)


def test_lambda_handler_reads_the_environment_and_uses_boto3(monkeypatch, sm):
    # Given an endpoint woken 5 minutes ago by the wall clock the handler uses
    sm.now = datetime.now(timezone.utc)
    sm.add_endpoint("ep-falcon", "cfg-1", modified=sm.now - timedelta(minutes=5))
    monkeypatch.setenv("ENDPOINTS_JSON", json.dumps([{"name": "falcon-7b-instruct", "endpoint_name": "ep-falcon",
                                                      "variant_name": "AllTraffic", "idle_after_hours": 2}]))
    clients = {"sagemaker": sm, "cloudwatch": FakeCloudWatch()}
    import boto3

    monkeypatch.setattr(boto3, "client", lambda service, **_: clients[service])
    [outcome] = handler.lambda_handler({}, LocalContext(function_name="idle-checker"))
    assert outcome["sleep"] is False
