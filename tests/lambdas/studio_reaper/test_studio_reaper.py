"""The Studio reaper over moto (SageMaker endpoints, configs, models and tags; CloudWatch
metrics; SNS -> SQS with a per-owner filter policy, as a user would subscribe).

moto keeps SageMaker's real behaviour where it matters here: a deleted endpoint, config
or model answers ValidationException "Could not find ...", and ListEndpoints/ListTags
return what was created. Time is the only thing faked: the reaper is given `now` a few
hours after moto's creation times, and metric datapoints are put relative to that.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from studio_reaper import handler
from studio_reaper.policy import ConfigError, Settings
from studio_reaper.tags import NOTIFIED_TAG, OWNER_TAG, TTL_TAG

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/notebook-models"
# moto validates instance types against an older list than SageMaker's; any hosting type will do.
INSTANCE = "ml.g4dn.xlarge"


class Spy:
    """A boto3 client that records the operations called on it (not through paginators)
    and can fail the next call of an operation with a real ClientError."""

    def __init__(self, client):
        self.client, self.calls, self.faults = client, [], {}

    def __getattr__(self, name):
        attr = getattr(self.client, name)
        if not callable(attr) or name == "get_paginator":
            return attr

        def call(**kwargs):
            self.calls.append((name, kwargs))
            if name in self.faults:
                raise self.faults.pop(name)
            return attr(**kwargs)

        return call

    def called(self, name, **match):
        return [kw for op, kw in self.calls if op == name and all(kw.get(k) == v for k, v in match.items())]


class World:
    def __init__(self):
        self.sm = Spy(boto3.client("sagemaker", region_name=REGION))
        self.cw = Spy(boto3.client("cloudwatch", region_name=REGION))
        self.sns = Spy(boto3.client("sns", region_name=REGION))
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.topic = self.sns.create_topic(Name="reaper-notices")["TopicArn"]
        # A few seconds after the endpoints the test creates, so ages read in whole minutes.
        self.start = datetime.now(timezone.utc) + timedelta(seconds=5)
        self.inboxes: dict[str, str] = {}

    def settings(self, **overrides) -> Settings:
        values = dict(idle_hours=2, ttl_hours=24, rate_minutes=60, dry_run=False, topic_arn=self.topic,
                      platform=frozenset({"platform-falcon", "platform-shared"}))
        return Settings(**{**values, **overrides})

    def deploy(self, name: str, owner: str | None = "alice", ttl: str | None = None, models: int = 1) -> None:
        """What JumpStartModel.deploy(tags=...) creates: model(s), endpoint config, endpoint, tagged alike."""
        tags = ([{"Key": OWNER_TAG, "Value": owner}] if owner else []) + ([{"Key": TTL_TAG, "Value": ttl}] if ttl else [])
        variants = []
        for i in range(models):
            self.sm.create_model(ModelName=f"{name}-model-{i}", ExecutionRoleArn=ROLE,
                                 PrimaryContainer={"Image": "123.dkr.ecr.us-east-1.amazonaws.com/tgi:latest"},
                                 **({"Tags": tags} if tags else {}))
            variants.append({"VariantName": f"Variant{i}" if i else "AllTraffic", "ModelName": f"{name}-model-{i}",
                             "InitialInstanceCount": 1, "InstanceType": INSTANCE, "InitialVariantWeight": 1.0})
        self.sm.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=variants,
                                       **({"Tags": tags} if tags else {}))
        self.sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config",
                                **({"Tags": tags} if tags else {}))
        self.sm.calls.clear()

    def invoke(self, name: str, at: datetime, count: float = 1.0, variant: str = "AllTraffic") -> None:
        self.cw.put_metric_data(Namespace="AWS/SageMaker", MetricData=[{
            "MetricName": "Invocations", "Value": count, "Timestamp": at,
            "Dimensions": [{"Name": "EndpointName", "Value": name}, {"Name": "VariantName", "Value": variant}]}])

    def subscribe(self, owner: str) -> None:
        """An SQS inbox subscribed with a filter policy on the owner attribute."""
        url = self.sqs.create_queue(QueueName=f"inbox-{owner}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True,
                           Attributes={"FilterPolicy": json.dumps({"owner": [owner]}), "RawMessageDelivery": "false"})
        self.inboxes[owner] = url

    def inbox(self, owner: str) -> list[dict]:
        got = self.sqs.receive_message(QueueUrl=self.inboxes[owner], MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in got]

    def run(self, after: timedelta, **overrides):
        return handler.run(self.settings(**overrides), self.sm, self.cw, self.sns, now=lambda: self.start + after)

    def tags(self, name: str) -> dict[str, str]:
        arn = self.sm.client.describe_endpoint(EndpointName=name)["EndpointArn"]
        return {t["Key"]: t["Value"] for t in self.sm.client.list_tags(ResourceArn=arn)["Tags"]}

    def exists(self, kind: str, name: str) -> bool:
        describe = {"endpoint": ("describe_endpoint", "EndpointName"),
                    "config": ("describe_endpoint_config", "EndpointConfigName"),
                    "model": ("describe_model", "ModelName")}[kind]
        try:
            getattr(self.sm.client, describe[0])(**{describe[1]: name})
        except ClientError as exc:
            assert "Could not find" in exc.response["Error"]["Message"]
            return False
        return True


@pytest.fixture
def world(monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        yield World()


def by_endpoint(results):
    return {r["endpoint"]: r for r in results}


def test_idle_endpoint_is_announced_to_its_owner_then_deleted_with_config_and_model_on_the_next_run(world):
    # Given alice's endpoint, 3 h old, never invoked, and alice (and bob) subscribed
    world.deploy("nb-alice-falcon")
    world.subscribe("alice")
    world.subscribe("bob")
    # When the reaper runs
    [first] = world.run(timedelta(hours=3))
    # Then alice alone is told, the endpoint is marked and still there
    assert first["action"] == "notify" and first["notified"] is True
    assert first["reason"] == "no invocations in the last 2 h"
    [mail] = world.inbox("alice")
    assert mail["Subject"] == "Studio endpoint nb-alice-falcon will be deleted"
    assert "no invocations in the last 2 h" in mail["Message"] and mail["MessageAttributes"]["owner"]["Value"] == "alice"
    assert world.inbox("bob") == []
    assert NOTIFIED_TAG in world.tags("nb-alice-falcon")
    assert world.exists("endpoint", "nb-alice-falcon")
    # When it runs again one period later, still no invocation
    [second] = world.run(timedelta(hours=4))
    # Then the endpoint, its endpoint config and its model are gone
    assert second["action"] == "delete"
    assert second["deleted"] == {"endpoint": True, "endpoint_config": "nb-alice-falcon-config",
                                 "models": ["nb-alice-falcon-model-0"]}
    assert not world.exists("endpoint", "nb-alice-falcon")
    assert not world.exists("config", "nb-alice-falcon-config")
    assert not world.exists("model", "nb-alice-falcon-model-0")


def test_invocations_in_the_idle_window_keep_the_endpoint(world):
    world.deploy("nb-busy")
    world.invoke("nb-busy", world.start + timedelta(hours=2, minutes=30), count=4)
    [outcome] = world.run(timedelta(hours=3))
    assert outcome["action"] == "keep"
    assert outcome["reason"].startswith("4 invocations in the last 2 h")
    assert world.sns.called("publish") == [] and world.sm.called("add_tags") == []
    # The query was per EndpointName + VariantName, Sum over exactly the idle window
    [query] = world.cw.called("get_metric_data")
    assert query["EndTime"] - query["StartTime"] == timedelta(hours=2)
    metric = query["MetricDataQueries"][0]["MetricStat"]
    assert metric["Stat"] == "Sum" and metric["Metric"]["MetricName"] == "Invocations"
    assert metric["Metric"]["Dimensions"] == [{"Name": "EndpointName", "Value": "nb-busy"},
                                              {"Name": "VariantName", "Value": "AllTraffic"}]


def test_invocations_on_any_variant_count(world):
    world.deploy("nb-two", models=2)
    world.invoke("nb-two", world.start + timedelta(hours=2, minutes=50), variant="Variant1")
    [outcome] = world.run(timedelta(hours=3))
    assert outcome["action"] == "keep"


def test_an_endpoint_younger_than_the_idle_window_is_not_idle_and_metrics_are_not_read(world):
    world.deploy("nb-new")
    [outcome] = world.run(timedelta(minutes=30))
    assert outcome["action"] == "keep"
    assert outcome["reason"].startswith("created or changed 30 min ago, within the 2 h idle window")
    assert world.cw.calls == []


def test_an_endpoint_older_than_its_ttl_tag_is_reaped_even_while_in_use(world):
    world.deploy("nb-ttl", ttl="1")
    world.invoke("nb-ttl", world.start + timedelta(minutes=80))
    [first] = world.run(timedelta(minutes=90))
    assert first["action"] == "notify" and first["reason"] == "older than its 1 h TTL (its ttl-hours tag)"
    world.invoke("nb-ttl", world.start + timedelta(minutes=140))
    [second] = world.run(timedelta(minutes=150))
    assert second["action"] == "delete" and second["deleted"]["endpoint"] is True


def test_the_default_ttl_applies_without_a_tag_and_a_bad_tag_falls_back_to_it(world):
    world.deploy("nb-untagged")
    world.deploy("nb-bad-tag", ttl="forever")
    for name in ("nb-untagged", "nb-bad-tag"):
        world.invoke(name, world.start + timedelta(hours=24, minutes=50))
    results = by_endpoint(world.run(timedelta(hours=25)))
    assert results["nb-untagged"]["reason"] == "older than its 24 h TTL (the default)"
    assert results["nb-bad-tag"]["reason"] == (
        "older than its 24 h TTL (the default; its ttl-hours tag 'forever' is not 1-8760 hours)")
    assert {r["action"] for r in results.values()} == {"notify"}
    # A bigger ttl-hours tag keeps an endpoint in use
    world.deploy("nb-long", ttl="48")
    world.invoke("nb-long", world.start + timedelta(hours=24, minutes=50))
    assert by_endpoint(world.run(timedelta(hours=25)))["nb-long"]["action"] == "keep"


def test_an_invocation_after_the_notice_cancels_the_deletion(world):
    # Given a 1 h idle window and alice notified at 3 h
    world.deploy("nb-rescued")
    assert world.run(timedelta(hours=3), idle_hours=1)[0]["action"] == "notify"
    # alice reads the mail and uses the endpoint again at 3 h 10
    world.invoke("nb-rescued", world.start + timedelta(hours=3, minutes=10))
    # When the next run comes late, at 4 h 20: nothing in the last hour
    [outcome] = world.run(timedelta(hours=4, minutes=20), idle_hours=1)
    # Then the window reached back to the notice, saw the call, and the endpoint stays
    assert outcome["action"] == "keep"
    assert world.exists("endpoint", "nb-rescued")
    query = world.cw.called("get_metric_data")[-1]
    assert query["StartTime"] == datetime.fromisoformat(world.tags("nb-rescued")[NOTIFIED_TAG])


def test_a_second_run_within_half_a_period_of_the_notice_waits(world):
    world.deploy("nb-wait")
    world.run(timedelta(hours=3))
    [outcome] = world.run(timedelta(hours=3, minutes=10))
    assert outcome["action"] == "wait" and outcome["reason"].endswith("owner notified 10 min ago")
    assert world.exists("endpoint", "nb-wait")


def test_a_stale_notice_is_given_again_rather_than_acted_on(world):
    world.deploy("nb-stale")
    world.run(timedelta(hours=3))
    # three periods later (the function failed meanwhile, say): notify again, do not delete
    [outcome] = world.run(timedelta(hours=6))
    assert outcome["action"] == "notify"
    assert world.exists("endpoint", "nb-stale")
    assert len(world.sns.called("publish")) == 2


def test_dry_run_only_reports(world):
    world.deploy("nb-dry")
    world.deploy("nb-dry-marked")
    world.run(timedelta(hours=3), dry_run=False)  # both notified for real
    world.deploy("nb-dry-fresh")
    world.sm.calls.clear()
    world.sns.calls.clear()
    results = by_endpoint(world.run(timedelta(hours=4), dry_run=True))
    assert results["nb-dry-fresh"] == {"endpoint": "nb-dry-fresh", "owner": "alice", "action": "notify",
                                       "reason": "no invocations in the last 2 h", "dry_run": True}
    assert results["nb-dry"]["action"] == "delete" and results["nb-dry"]["dry_run"] is True
    mutations = ("add_tags", "delete_endpoint", "delete_endpoint_config", "delete_model")
    assert [op for op, _ in world.sm.calls if op in mutations] == []
    assert world.sns.calls == []
    assert all(world.exists("endpoint", n) for n in ("nb-dry", "nb-dry-marked", "nb-dry-fresh"))


def test_platform_endpoints_are_never_touched_even_with_an_owner_tag(world):
    # Given the platform's endpoints (deny list), one of them somehow carrying the owner tag,
    # both idle for days and past any TTL, and a notebook endpoint equally idle
    world.deploy("platform-falcon", owner=None)
    world.deploy("Platform-Shared", owner="alice", ttl="1")
    world.deploy("nb-victim")
    # When the reaper runs three times over two days
    outcomes = [world.run(after) for after in (timedelta(hours=48), timedelta(hours=49), timedelta(hours=50))]
    # Then only the notebook endpoint was ever judged, and it alone was deleted
    assert [[r["endpoint"] for r in o] for o in outcomes] == [["nb-victim"], ["nb-victim"], []]
    for name in ("platform-falcon", "Platform-Shared"):
        assert world.exists("endpoint", name) and world.exists("config", f"{name}-config")
        assert world.exists("model", f"{name}-model-0")
        assert NOTIFIED_TAG not in world.tags(name)
    # Not one call named a platform endpoint or its config (not even ListTags)
    touched = json.dumps(world.sm.calls + world.cw.calls + world.sns.calls, default=str).lower()
    assert "platform" not in touched


def test_endpoints_without_the_owner_tag_are_not_notebook_endpoints(world):
    world.deploy("someone-elses", owner=None)
    assert world.run(timedelta(hours=48)) == []
    assert world.exists("endpoint", "someone-elses")


def test_endpoints_not_in_service_are_left_alone(world):
    world.deploy("nb-failed")
    world.sm.client.delete_endpoint(EndpointName="nb-failed")
    assert world.run(timedelta(hours=48)) == []  # gone: nothing listed


def test_every_model_of_a_multi_variant_config_is_deleted_and_a_missing_one_is_tolerated(world):
    world.deploy("nb-multi", models=2)
    world.run(timedelta(hours=3))
    world.sm.client.delete_model(ModelName="nb-multi-model-1")  # the owner was faster for one
    [outcome] = world.run(timedelta(hours=4))
    assert outcome["deleted"] == {"endpoint": True, "endpoint_config": "nb-multi-config",
                                  "models": ["nb-multi-model-0"]}
    assert not world.exists("model", "nb-multi-model-0")


def test_one_failing_endpoint_does_not_stop_the_others_but_fails_the_run(world):
    world.deploy("nb-a")
    world.deploy("nb-b")
    world.sns.faults["publish"] = ClientError(
        {"Error": {"Code": "KMSAccessDeniedException", "Message": "User is not authorized"}}, "Publish")
    with pytest.raises(handler.RunFailed, match="reaping failed for: nb-a"):
        world.run(timedelta(hours=3))
    # nb-a was not marked (its notice never went out); nb-b was
    assert NOTIFIED_TAG not in world.tags("nb-a") and NOTIFIED_TAG in world.tags("nb-b")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "environment variable PLATFORM_ENDPOINTS_JSON is not set"),
        ({"PLATFORM_ENDPOINTS_JSON": "nope"}, "PLATFORM_ENDPOINTS_JSON is not valid JSON"),
        ({"PLATFORM_ENDPOINTS_JSON": '[""]'}, "PLATFORM_ENDPOINTS_JSON must be a JSON list of endpoint names"),
        ({"PLATFORM_ENDPOINTS_JSON": "[]", "IDLE_HOURS": "0", "TTL_HOURS": "24", "RATE_MINUTES": "60",
          "TOPIC_ARN": "t"}, "IDLE_HOURS must be a positive integer, got '0'"),
    ],
)
def test_a_malformed_environment_is_refused(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_lambda_handler_reads_its_environment(world, monkeypatch):
    world.deploy("nb-fresh")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for key, value in {"IDLE_HOURS": "2", "TTL_HOURS": "24", "RATE_MINUTES": "60", "DRY_RUN": "true",
                       "TOPIC_ARN": world.topic, "PLATFORM_ENDPOINTS_JSON": '["platform-falcon"]'}.items():
        monkeypatch.setenv(key, value)
    [outcome] = handler.lambda_handler({}, None)
    assert outcome["endpoint"] == "nb-fresh" and outcome["action"] == "keep" and outcome["dry_run"] is True
