"""Change safety: what a config edit does to the deployed resources.

1. Changing only a model's instance type changes only that model's
   EndpointConfig in the templates. CloudFormation replaces it (a new, generated
   name) and updates the Endpoint that names it via Fn::GetAtt in place
   (EndpointConfigName: no interruption), so the endpoint keeps its name and
   nothing that references the endpoint (autoscaling target, alarms, the
   front door's MODELS_JSON, the dashboard) changes. Nothing else, and nothing
   stateful, is touched.
2. Switching between the shipped configs never renames a stateful resource
   (bucket, key, table, Studio domain, VPC, EFS, retained log group): a new
   logical ID would mean a new, empty resource and an orphaned old one.
"""

from __future__ import annotations

import json
import tempfile
from functools import lru_cache

import aws_cdk as cdk
import pytest
import yaml

from stacks.app_builder import build_app
from tests.synth import CONFIGS, REPO, cli_context, synth

OLD_TYPE, NEW_TYPE = "ml.g5.2xlarge", "ml.g5.4xlarge"

STATEFUL_TYPES = {
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::DynamoDB::Table",
    "AWS::SageMaker::Domain",
    "AWS::EC2::VPC",
    "AWS::EFS::FileSystem",
}


def stateful(template: dict) -> dict[str, str]:
    """Logical id -> type of the resources whose replacement would lose data."""
    return {
        lid: r["Type"]
        for lid, r in template["Resources"].items()
        if r["Type"] in STATEFUL_TYPES
        or (r["Type"] == "AWS::Logs::LogGroup" and r.get("DeletionPolicy") == "Retain")
    }


def references(node: object) -> set[str]:
    """Logical ids a template fragment refers to (Ref, Fn::GetAtt, Fn::Sub ${X})."""
    found: set[str] = set()
    if isinstance(node, dict):
        if "Ref" in node and isinstance(node["Ref"], str):
            found.add(node["Ref"])
        if "Fn::GetAtt" in node:
            target = node["Fn::GetAtt"]
            found.add(target[0] if isinstance(target, list) else target.split(".")[0])
        for value in node.values():
            found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found


@lru_cache(maxsize=None)
def variant() -> dict[str, dict]:
    """The default config with only the model's instance type changed, synthesized
    in its own App with the CLI's context."""
    data = yaml.safe_load((REPO / CONFIGS["default"]).read_text())
    [endpoint] = data["endpoints"]
    assert endpoint["instance_type"] == OLD_TYPE
    endpoint["instance_type"] = NEW_TYPE
    path = f"{tempfile.mkdtemp(prefix='change-safety-')}/default-{NEW_TYPE}.yaml"
    with open(path, "w") as f:
        yaml.safe_dump(data, f)
    app = cdk.App(context={**cli_context(), "config": path}, outdir=tempfile.mkdtemp())
    deployment = build_app(app, path)
    assembly = app.synth()
    return {s.node.id: assembly.get_stack_by_name(s.stack_name).template for s in deployment.stacks}


def changed(before: dict, after: dict) -> set[str]:
    resources_a, resources_b = before["Resources"], after["Resources"]
    return {lid for lid in resources_a.keys() & resources_b.keys() if resources_a[lid] != resources_b[lid]}


def test_instance_type_change_keeps_every_stack_and_resource_id():
    before = synth(CONFIGS["default"]).templates()
    after = variant()
    assert before.keys() == after.keys()
    for stack_id in before:
        a, b = before[stack_id]["Resources"], after[stack_id]["Resources"]
        assert a.keys() == b.keys(), f"{stack_id}: resources added or removed"
        assert {k: v["Type"] for k, v in a.items()} == {k: v["Type"] for k, v in b.items()}
        assert before[stack_id].get("Outputs") == after[stack_id].get("Outputs"), stack_id


# Resource types that may change only because they *describe* the model: the front
# door's MODELS_JSON (served by /v1/models) and the dashboard's heading name the
# instance type. Both properties update in place (Lambda Environment, DashboardBody:
# "Update requires: No interruption").
DESCRIPTIVE = {"AWS::Lambda::Function", "AWS::CloudWatch::Dashboard"}


def _endpoint_config_id(template: dict) -> str:
    [lid] = [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::SageMaker::EndpointConfig"]
    return lid


def test_instance_type_change_touches_only_that_models_endpoint_config():
    before = synth(CONFIGS["default"]).templates()
    after = variant()
    config_id = _endpoint_config_id(before["Endpoints"])
    diff = {stack_id: changed(before[stack_id], after[stack_id]) for stack_id in before}
    # The Endpoints stack: exactly the model's EndpointConfig, and in it only the instance type.
    assert diff.pop("Endpoints") == {config_id}
    config_a = before["Endpoints"]["Resources"][config_id]
    config_b = after["Endpoints"]["Resources"][config_id]
    [variant_a] = config_a["Properties"]["ProductionVariants"]
    [variant_b] = config_b["Properties"]["ProductionVariants"]
    assert (variant_a["InstanceType"], variant_b["InstanceType"]) == (OLD_TYPE, NEW_TYPE)
    assert {**variant_a, "InstanceType": NEW_TYPE} == variant_b
    assert {**config_a["Properties"], "ProductionVariants": None} == {**config_b["Properties"], "ProductionVariants": None}
    # Elsewhere: only resources that describe the model, and only by the instance type's name.
    for stack_id, ids in diff.items():
        for lid in ids:
            a, b = before[stack_id]["Resources"][lid], after[stack_id]["Resources"][lid]
            assert a["Type"] in DESCRIPTIVE, f"{stack_id}/{lid} ({a['Type']}) changed"
            assert json.loads(json.dumps(a).replace(OLD_TYPE, NEW_TYPE)) == b, f"{stack_id}/{lid}"
    assert {k: len(v) for k, v in diff.items() if v} == {"Api": 2, "Monitoring": 1}


def test_replaced_endpoint_config_is_referenced_only_by_its_endpoint():
    # The replacement gets a new name; whatever refers to it is updated at deploy time.
    resources = variant()["Endpoints"]["Resources"]
    config_id = _endpoint_config_id(variant()["Endpoints"])
    referrers = {lid for lid, r in resources.items() if config_id in references(r)}
    assert len(referrers) == 1
    [endpoint_id] = referrers
    endpoint = resources[endpoint_id]
    assert endpoint["Type"] == "AWS::SageMaker::Endpoint"
    # Only EndpointConfigName (updatable without replacement) and no EndpointName, so the
    # endpoint keeps its generated name and every reference to that name (scalable target,
    # alarms, MODELS_JSON, dashboard) stays valid.
    assert {k: v for k, v in endpoint["Properties"].items() if k != "Tags"} == {
        "EndpointConfigName": {"Fn::GetAtt": [config_id, "EndpointConfigName"]},
    }


def test_instance_type_change_leaves_stateful_resources_identical():
    before = synth(CONFIGS["default"]).templates()
    after = variant()
    for stack_id, template in before.items():
        ids = stateful(template)
        assert ids == stateful(after[stack_id]), stack_id
        for lid in ids:
            assert template["Resources"][lid] == after[stack_id]["Resources"][lid], f"{stack_id}/{lid}"


def _paths(template: dict) -> dict[str, str]:
    """Construct path -> logical id of the stateful resources."""
    return {
        template["Resources"][lid].get("Metadata", {}).get("aws:cdk:path", lid): lid
        for lid in stateful(template)
    }


@pytest.mark.parametrize("config", sorted(set(CONFIGS) - {"default"}))
def test_switching_configs_keeps_stateful_logical_ids(config):
    default = synth(CONFIGS["default"]).templates()
    other = synth(CONFIGS[config]).templates()
    for stack_id, template in other.items():
        mine = stateful(template)
        if stack_id in default:
            # Everything stateful of the default deployment survives the switch under the
            # same id; a config may add stateful resources (creations) but not rename one.
            theirs = stateful(default[stack_id])
            missing = {lid: t for lid, t in theirs.items() if mine.get(lid) != t}
            assert not missing, f"{config}/{stack_id}: stateful resources renamed or dropped: {missing}"
        # Network and Studio exist only with a VPC: compare across the configs that have
        # them, by construct path (an imported VPC simply has no VPC resource).
        for peer in sorted(CONFIGS):
            peer_template = synth(CONFIGS[peer]).templates().get(stack_id)
            if peer_template is None:
                continue
            a, b = _paths(template), _paths(peer_template)
            renamed = {p: (a[p], b[p]) for p in a.keys() & b.keys() if a[p] != b[p]}
            assert not renamed, f"{config} vs {peer} /{stack_id}: {renamed}"


def test_stateful_set_includes_retained_log_groups():
    ids = stateful(synth(CONFIGS["default"]).templates()["Api"])
    log_groups = [lid for lid, t in ids.items() if t == "AWS::Logs::LogGroup"]
    # front door, worker, access logs, WAF logs
    assert len(log_groups) == 4, log_groups
