"""Change safety: what a config edit does to the deployed resources.

1. Changing a model's instance type replaces its endpoint (new logical ID, so
   CloudFormation creates the new endpoint and scalable target before deleting the
   old ones): SageMaker refuses an UpdateEndpoint that changes the instance type of
   an autoscaled variant. The consumers (front door, alarms, dashboard) follow
   through weak cross-stack references in the same `cdk deploy --all`. Nothing
   stateful is touched.
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
        or (r["Type"] == "AWS::Logs::LogGroup" and r.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate"))
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


def _endpoint_config_id(template: dict) -> str:
    [lid] = [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::SageMaker::EndpointConfig"]
    return lid


def _of_type(template: dict, type_: str) -> set[str]:
    return {lid for lid, r in template["Resources"].items() if r["Type"] == type_}


def test_instance_type_change_replaces_the_autoscaled_endpoint_instead_of_updating_it():
    """SageMaker: "If the update would change the instance type for any model that is a
    target for auto scaling, the update fails" (Developer Guide, "Update endpoints that use
    auto scaling"). So the change must not reach UpdateEndpoint: the endpoint and its
    scalable target get new logical IDs, CloudFormation creates them first and deletes the
    old ones in its cleanup phase (the old target before the old endpoint it depends on)."""
    before, after = synth(CONFIGS["default"]).templates()["Endpoints"], variant()["Endpoints"]
    [old_endpoint], [new_endpoint] = _of_type(before, "AWS::SageMaker::Endpoint"), _of_type(after, "AWS::SageMaker::Endpoint")
    # A new logical ID: a create, never an UpdateEndpoint.
    assert "G52xlarge" in old_endpoint and "G54xlarge" in new_endpoint
    # The scalable target's ResourceId (Update requires: Replacement) names the new endpoint,
    # so a new target is registered after the new endpoint exists.
    [target_id] = _of_type(after, "AWS::ApplicationAutoScaling::ScalableTarget")
    resource_id = after["Resources"][target_id]["Properties"]["ResourceId"]
    assert new_endpoint in references(resource_id) and old_endpoint not in json.dumps(after)
    # The endpoint config keeps its id and is replaced (InstanceType: Replacement) with a new
    # generated name; only its instance type differs.
    config_id = _endpoint_config_id(before)
    [variant_a] = before["Resources"][config_id]["Properties"]["ProductionVariants"]
    [variant_b] = after["Resources"][config_id]["Properties"]["ProductionVariants"]
    assert (variant_a["InstanceType"], variant_b["InstanceType"]) == (OLD_TYPE, NEW_TYPE)
    assert {**variant_a, "InstanceType": NEW_TYPE} == variant_b


def test_consumers_follow_the_new_endpoint_through_weak_references():
    """The Api and Monitoring stacks read the endpoint through Fn::GetStackOutput, which
    (unlike Export/ImportValue) never blocks the Endpoints stack from dropping the old
    output; the consumers' templates change, so `cdk deploy --all` updates them next and
    the front door and alarms follow the new endpoint in the same deploy."""
    before, after = synth(CONFIGS["default"]).templates(), variant()
    for stack_id, template in after.items():
        text = json.dumps(template)
        assert "Fn::ImportValue" not in text, stack_id
        assert not any("Export" in o for o in template.get("Outputs", {}).values()), stack_id
    [new_endpoint] = _of_type(after["Endpoints"], "AWS::SageMaker::Endpoint")
    for stack_id in ("Api", "Monitoring"):
        assert before[stack_id] != after[stack_id], f"{stack_id} would not be redeployed"
        assert new_endpoint in json.dumps(after[stack_id]), f"{stack_id} does not follow the new endpoint"
    [old_endpoint] = _of_type(before["Endpoints"], "AWS::SageMaker::Endpoint")
    assert old_endpoint not in json.dumps(after["Api"]) + json.dumps(after["Monitoring"])


def test_instance_type_change_touches_nothing_else_by_id():
    """Besides the replaced endpoint, the same resources exist under the same ids and types
    in every stack."""
    before, after = synth(CONFIGS["default"]).templates(), variant()
    assert before.keys() == after.keys()
    replaced = {"AWS::SageMaker::Endpoint"}
    for stack_id in before:
        a = {k: v["Type"] for k, v in before[stack_id]["Resources"].items() if v["Type"] not in replaced}
        b = {k: v["Type"] for k, v in after[stack_id]["Resources"].items() if v["Type"] not in replaced}
        assert a == b, stack_id


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
    # front door, streaming function, worker, dead-letter handler, access logs, WAF logs
    assert len(log_groups) == 6, log_groups
