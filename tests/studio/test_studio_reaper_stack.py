"""The Studio reaper in the Studio stack: schedule, function, role (scoped by the owner tag,
platform endpoints denied), topic and log group; the variants a config can ask for."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import aws_cdk as cdk
import pytest
import yaml
from studio_reaper.tags import NOTIFIED_TAG, OWNER_TAG, TTL_TAG

from stacks.app_builder import build_app
from tests.synth import CONFIGS, REPO, Synth, cli_context, synth


def _resources(s: Synth, stack) -> dict:
    return s.template(stack)["Resources"]


def _one(resources: dict, type_: str, contains: str = "Reaper") -> tuple[str, dict]:
    [found] = [(lid, r) for lid, r in resources.items() if r["Type"] == type_ and contains in lid]
    return found


def _policy(resources: dict, role_lid: str) -> list[dict]:
    arns = resources[role_lid]["Properties"]["ManagedPolicyArns"]
    return [st for a in arns for st in resources[a["Ref"]]["Properties"]["PolicyDocument"]["Statement"]]


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def variant(tmp_path_factory) -> Synth:
    """studio-vpc with functions in the VPC, dry run and a 15-minute rate."""
    data = yaml.safe_load((REPO / CONFIGS["studio-vpc"]).read_text())
    data["network"]["functions_in_vpc"] = True
    data["studio"]["deploy"] = {"dry_run": True, "reaper_rate_minutes": 15, "idle_hours": 4, "ttl_hours": 72}
    path = Path(tmp_path_factory.mktemp("cfg")) / "studio-reaper-variant.yaml"
    path.write_text(yaml.safe_dump(data))
    return synth(str(path))


@pytest.fixture(params=["studio_vpc", "studio_imported"])
def shipped(request) -> Synth:
    return request.getfixturevalue(request.param)


def test_the_guardrails_and_the_reaper_read_the_same_tag_keys():
    """One definition (lambdas/studio_reaper/tags.py): the Studio role's create/delete
    conditions and the reaper must name the same owner and TTL tags, or the reaper never sees
    a notebook endpoint (or IAM refuses its deletes)."""
    from stacks.config import studio as studio_config

    assert (getattr(studio_config, "OWNER_TAG", OWNER_TAG), getattr(studio_config, "TTL_TAG", TTL_TAG)) == (
        OWNER_TAG, TTL_TAG), "stacks/config/studio.py must import OWNER_TAG/TTL_TAG from studio_reaper.tags"


def test_schedule_runs_the_reaper_at_the_configured_rate(shipped):
    resources = _resources(shipped, shipped.deployment.studio)
    _, schedule = _one(resources, "AWS::Scheduler::Schedule")
    function_lid, _ = _one(resources, "AWS::Lambda::Function")
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(1 hour)"  # studio.deploy.reaper_rate_minutes default 60
    assert props["Target"]["Arn"] == {"Fn::GetAtt": [function_lid, "Arn"]}
    assert props["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 1800, "MaximumRetryAttempts": 0}


def test_function_knows_the_windows_its_topic_and_every_platform_endpoint(shipped):
    resources = _resources(shipped, shipped.deployment.studio)
    _, function = _one(resources, "AWS::Lambda::Function")
    props = function["Properties"]
    assert props["Handler"] == "studio_reaper.handler.lambda_handler"
    env = props["Environment"]["Variables"]
    assert {k: env[k] for k in ("IDLE_HOURS", "TTL_HOURS", "RATE_MINUTES", "DRY_RUN")} == {
        "IDLE_HOURS": "2", "TTL_HOURS": "24", "RATE_MINUTES": "60", "DRY_RUN": "false"}
    topic_lid, topic = _one(resources, "AWS::SNS::Topic")
    assert env["TOPIC_ARN"] == {"Ref": topic_lid}
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    # The deny list: one Fn::GetStackOutput per platform endpoint (their names are generated)
    platform = json.dumps(env["PLATFORM_ENDPOINTS_JSON"])
    endpoints = shipped.deployment.endpoints
    assert platform.count("Fn::GetStackOutput") == len(endpoints.endpoints) + len(endpoints.shared) >= 1
    assert "Layers" not in props  # plain boto3: no Powertools layer


def test_role_deletes_and_tags_only_owner_tagged_resources_and_never_platform_endpoints(shipped):
    resources = _resources(shipped, shipped.deployment.studio)
    role_lid, _ = _one(resources, "AWS::IAM::Role", "ReaperRole")
    policy = _policy(resources, role_lid)
    by_sid = {s["Sid"]: s for s in policy if "Sid" in s}
    owner = {"Null": {f"sagemaker:ResourceTag/{OWNER_TAG}": "false"}}
    deletes = by_sid["DeleteNotebookDeployments"]
    assert sorted(_listed(deletes["Action"])) == [
        "sagemaker:DeleteEndpoint", "sagemaker:DeleteEndpointConfig", "sagemaker:DeleteModel"]
    assert deletes["Condition"] == owner
    mark = by_sid["MarkNotifiedEndpoints"]
    assert mark["Action"] == "sagemaker:AddTags"
    assert mark["Condition"] == {**owner, "ForAllValues:StringEquals": {"aws:TagKeys": [NOTIFIED_TAG]}}
    # Only ListEndpoints and GetMetricData (plus X-Ray) on "*"
    wildcard = sorted(a for s in policy if s.get("Resource") == "*" for a in _listed(s["Action"]))
    assert wildcard == ["cloudwatch:GetMetricData", "sagemaker:ListEndpoints", "xray:PutTelemetryRecords",
                        "xray:PutTraceSegments"]
    # No other statement allows a SageMaker write
    writes = [s for s in policy if s["Effect"] == "Allow" and s.get("Sid") not in (
        "DeleteNotebookDeployments", "MarkNotifiedEndpoints")
        and any(a.startswith(("sagemaker:Delete", "sagemaker:Update", "sagemaker:Create", "sagemaker:AddTags"))
                for a in _listed(s["Action"]))]
    assert writes == []
    deny = by_sid["NeverTouchPlatformEndpoints"]
    assert deny["Effect"] == "Deny" and "sagemaker:DeleteEndpoint" in deny["Action"]
    assert json.dumps(deny["Resource"]).count("Fn::GetStackOutput") == len(shipped.deployment.endpoints.endpoints)
    assert by_sid["NotifyOwners"]["Resource"] == {"Ref": _one(resources, "AWS::SNS::Topic")[0]}


def test_log_group_is_encrypted_kept_and_has_a_retention(shipped):
    resources = _resources(shipped, shipped.deployment.studio)
    _, logs = _one(resources, "AWS::Logs::LogGroup", "ReaperLogs")
    assert logs["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    assert logs["Properties"]["RetentionInDays"] == shipped.deployment.config.log_retention_days
    assert logs["DeletionPolicy"] == "RetainExceptOnCreate"


def test_functions_in_vpc_attach_the_reaper_and_add_an_sns_endpoint(variant):
    studio = _resources(variant, variant.deployment.studio)
    _, function = _one(studio, "AWS::Lambda::Function")
    assert "VpcConfig" in function["Properties"]
    env = function["Properties"]["Environment"]["Variables"]
    assert (env["DRY_RUN"], env["RATE_MINUTES"], env["IDLE_HOURS"], env["TTL_HOURS"]) == ("true", "15", "4", "72")
    _, schedule = _one(studio, "AWS::Scheduler::Schedule")
    assert schedule["Properties"]["ScheduleExpression"] == "rate(15 minutes)"
    network = _resources(variant, variant.deployment.network)
    services = [json.dumps(r["Properties"]["ServiceName"]) for r in network.values()
                if r["Type"] == "AWS::EC2::VPCEndpoint"]
    assert any(".sns" in s for s in services), services


def test_no_reaper_when_notebooks_may_not_deploy(tmp_path):
    data = yaml.safe_load((REPO / CONFIGS["studio-vpc"]).read_text())
    data["studio"]["deploy"] = {"enabled": False}
    path = tmp_path / "no-deploys.yaml"
    path.write_text(yaml.safe_dump(data))
    app = cdk.App(context={**cli_context(), "config": str(path)}, outdir=tempfile.mkdtemp())
    deployment = build_app(app, str(path), nag=False)
    assert deployment.studio.reaper is None
    assert not [c for c in deployment.studio.node.find_all() if c.node.id == "Reaper"]
