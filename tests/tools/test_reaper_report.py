"""`make report`'s reaper section over moto: notebook endpoints, when they go, what they cost;
the platform's endpoints (read from the Endpoints stack) left out; no AWS, one line."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from moto import mock_aws
from studio_reaper.tags import OWNER_TAG, TTL_TAG

from tests.synth import CONFIGS, REPO
from tools.reaper_report import section

STUDIO = str(REPO / CONFIGS["studio-vpc"])  # region us-east-1, project fm-studio
ROLE = "arn:aws:iam::123456789012:role/x"


def _endpoint(sm, name: str, tags: list[dict], count: int = 1) -> None:
    sm.create_model(ModelName=f"{name}-m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "i"})
    sm.create_endpoint_config(EndpointConfigName=f"{name}-c", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": f"{name}-m", "InitialInstanceCount": count,
        "InstanceType": "ml.g4dn.xlarge", "InitialVariantWeight": 1.0}])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-c", Tags=tags)


@pytest.fixture
def aws(monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        clients = {n: boto3.client(n, region_name="us-east-1") for n in ("sagemaker", "cloudwatch", "cloudformation")}
        # The platform's endpoint, declared by the Endpoints stack, wrongly carrying the owner tag
        template = {"Resources": {
            "M": {"Type": "AWS::SageMaker::Model", "Properties": {"ExecutionRoleArn": ROLE, "PrimaryContainer": {"Image": "i"}}},
            "C": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {"ProductionVariants": [{
                "VariantName": "AllTraffic", "ModelName": {"Fn::GetAtt": ["M", "ModelName"]}, "InitialInstanceCount": 1,
                "InstanceType": "ml.g4dn.xlarge", "InitialVariantWeight": 1}]}},
            "E": {"Type": "AWS::SageMaker::Endpoint", "Properties": {
                "EndpointConfigName": {"Fn::GetAtt": ["C", "EndpointConfigName"]}, "Tags": [{"Key": OWNER_TAG, "Value": "x"}]}},
        }}
        clients["cloudformation"].create_stack(StackName="fm-studio-endpoints", TemplateBody=json.dumps(template))
        yield clients


def test_lists_notebook_endpoints_with_their_deletion_time_and_hourly_cost(aws):
    sm = aws["sagemaker"]
    _endpoint(sm, "nb-alice", [{"Key": OWNER_TAG, "Value": "alice"}], count=2)
    _endpoint(sm, "nb-bob", [{"Key": OWNER_TAG, "Value": "bob"}, {"Key": TTL_TAG, "Value": "48"}])
    _endpoint(sm, "not-a-notebook", [])
    now = datetime.now(timezone.utc) + timedelta(hours=3)
    aws["cloudwatch"].put_metric_data(Namespace="AWS/SageMaker", MetricData=[{
        "MetricName": "Invocations", "Value": 5, "Timestamp": now - timedelta(minutes=30),
        "Dimensions": [{"Name": "EndpointName", "Value": "nb-bob"}, {"Name": "VariantName", "Value": "AllTraffic"}]}])
    lines = section(STUDIO, now, clients=aws)
    text = "\n".join(lines)
    assert lines[0] == "## Notebook endpoints the Studio reaper would delete"
    rows = [line for line in lines if line.startswith("| nb-")]
    # alice's idle endpoint first: notified on the next run, deleted on the one after (2 h at most)
    assert rows[0].startswith("| nb-alice | alice | 2 x ml.g4dn.xlarge | $1.47 | "
                              f"{(now + timedelta(hours=2)):%Y-%m-%d %H:%M} | the run after the next one")
    assert "no invocations in the last 2 h" in rows[0]
    # bob's busy endpoint: kept; goes 2 h after it falls idle (2 runs at most after the last call)
    assert rows[1].startswith("| nb-bob | bob | 1 x ml.g4dn.xlarge | $0.74 |")
    assert "5 invocations in the last 2 h; TTL 48 h (its ttl-hours tag)" in rows[1]
    assert "2 notebook endpoint(s): $2.21/h while they run" in text
    # Neither the untagged endpoint nor the platform's (owner tag and all) is listed
    assert "not-a-notebook" not in text and "fm-studio-endpoints-E" not in text
    # Read-only: nothing was tagged
    arn = sm.describe_endpoint(EndpointName="nb-alice")["EndpointArn"]
    assert [t["Key"] for t in sm.list_tags(ResourceArn=arn)["Tags"]] == [OWNER_TAG]


def test_without_a_deployment_or_credentials_it_says_so(aws):
    aws["cloudformation"].delete_stack(StackName="fm-studio-endpoints")
    lines = section(STUDIO, datetime.now(timezone.utc), clients=aws)
    assert lines[-1].startswith("needs AWS credentials for the deployed account (ClientError")


def test_a_config_without_notebook_deploys_has_no_reaper():
    lines = section(str(REPO / CONFIGS["default"]), datetime.now(timezone.utc))
    assert lines[-1] == "no notebook deployments in this config (studio.enabled and studio.deploy.enabled): no reaper"
