"""AWS Control Tower proactive controls (issue 14): the Guard rules run in every synth
of every config next to the cdk-nag packs, and every acknowledgment is a known one."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs

from stacks.app_builder import build_app
from stacks.compliance.control_tower import control_acknowledgments, control_of
from tests.synth import CONFIGS, REPO, cli_context, synth

LEDGER = Path(__file__).with_name("control_tower_ledger.json")
COUNTS = Path(__file__).with_name("control_tower_counts_default.json")
GOVERNED_COUNTS = Path(__file__).with_name("control_tower_counts_governed.json")


def _acks(name: str) -> list[tuple[str, str, str]]:
    return [a for stack in synth(CONFIGS[name]).deployment.stacks for a in control_acknowledgments(stack)]


def test_control_tower_rules_fail_synth_on_an_unacknowledged_finding():
    # Given the default app plus a log group nag accepts (encrypted, with a retention) but
    # Control Tower does not (CT.CLOUDWATCH.PR.2 wants at least 365 days)
    app = cdk.App(context={**cli_context()}, outdir=tempfile.mkdtemp())
    deployment = build_app(app, str(REPO / CONFIGS["default"]))
    stack = deployment.endpoints
    logs.LogGroup(stack, "ShortLived", retention=logs.RetentionDays.ONE_MONTH,
                  encryption_key=stack.data_key, removal_policy=cdk.RemovalPolicy.DESTROY)
    # Then synthesis refuses it
    with pytest.raises(Exception, match="CT.CLOUDWATCH.PR.2|cloudwatch_log_group_retention|Validation failed"):
        app.synth()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_control_tower_acknowledgment_is_in_the_ledger(name):
    acks = _acks(name)  # synthesis itself fails on any unacknowledged finding
    ledger = json.loads(LEDGER.read_text())
    unexplained = sorted({(control, reason) for _, control, reason in acks if reason not in ledger.get(control, [])})
    assert not unexplained, (
        "new Control Tower acknowledgments: review them, then add to tests/stacks/control_tower_ledger.json:\n"
        + json.dumps(unexplained, indent=1)
    )


def test_ledger_reasons_are_specific():
    for control, reasons in json.loads(LEDGER.read_text()).items():
        for reason in reasons:
            assert len(reason) >= 40 and "false positive" not in reason.lower(), (control, reason)


def test_default_acknowledgment_counts_per_control():
    counts = dict(sorted(Counter(control for _, control, _ in _acks("default")).items()))
    assert counts == json.loads(COUNTS.read_text()), "Control Tower acknowledgments changed: update the counts with a reason"


def test_governed_acknowledgment_counts_per_control():
    counts = dict(sorted(Counter(control for _, control, _ in _acks("governed")).items()))
    assert counts == json.loads(GOVERNED_COUNTS.read_text()), (
        "Control Tower acknowledgments of config/examples/governed.yaml changed: update the counts with a reason"
    )


def test_governed_config_keeps_object_lock_and_vpc_exceptions_only_where_they_cannot_pass():
    """With `object_lock` and `network.functions_in_vpc`, CT.S3.PR.9 is acknowledged only on
    the server-access-log targets ("S3 buckets with Object Lock can't be used as destination
    buckets for server access logs", S3 User Guide, "Configuring S3 Object Lock"), and
    CT.LAMBDA.PR.3 only on two handlers that run while a stack deploys or is deleted: CDK's
    default-security-group handler, which CDK cannot place in a VPC, and the teardown guard,
    whose own network interface would block the VPC deletion it checks for. Every function of
    the app's API, jobs and idle checks runs in the VPC (they would be listed here otherwise)."""
    acks = _acks("governed")

    def on(control: str) -> list[str]:
        return sorted(path for path, c, _ in acks if c == control)

    assert on("CT.S3.PR.9") == ["Api/AccessLogs/Bucket", "Endpoints/AccessLogs/Bucket"]
    assert on("CT.LAMBDA.PR.3") == [
        "Network/Custom::VpcRestrictDefaultSGCustomResourceProvider", "Network/TeardownGuard/Function",
    ]


def test_default_config_meets_the_controls_it_can():
    """What the default config fixes rather than acknowledges: KMS grants, log retention,
    the Lambda permission's scope (except the literal account), SQS DLQs, S3 notifications."""
    controls = {control for _, control, _ in _acks("default")}
    assert not controls & {"CT.KMS.PR.3", "CT.CLOUDWATCH.PR.2", "CT.SQS.PR.1", "CT.S3.PR.4"}


def _found(jobs) -> list[tuple[str, tuple]]:
    from stacks.compliance.control_tower import _run, _violations

    return sorted(
        (v.rule_name, tuple(sorted((Path(r.template_path).name, r.resource_logical_id or "", tuple(r.locations or []))
                                   for r in v.violating_resources)))
        for v in _violations(_run(jobs))
    )


@pytest.mark.parametrize("name", ["default", "studio-vpc", "governed"])
def test_each_rule_over_only_the_resources_of_its_types_finds_the_same(name):
    """The plugin runs a rule only over the resources of the types it names (cfn-guard's cost
    per rule grows with the data file: ~20 ms per rule on the default Api template); all 237
    controls over every whole template must report exactly the same violations, at the same
    logical ids and paths, named by the synthesized template."""
    from stacks.compliance.control_tower import _jobs

    templates = sorted(str(p) for p in synth(CONFIGS[name]).outdir.glob("*.template.json"))
    relevant = _jobs(templates)
    everything = _jobs(templates, relevant_rules_only=False)
    assert all(job.types for job in relevant)
    assert sum(len(job.rules) for job in relevant) < sum(len(job.rules) for job in everything) / 3
    found = _found(relevant)
    assert found and found == _found(everything)
    assert {template for _, resources in found for template, *_ in resources} <= {Path(t).name for t in templates}


def test_a_rule_that_follows_a_reference_sees_the_referenced_resource_of_another_type(tmp_path):
    """CT.LAMBDA.PR.2 accepts a SourceArn that is a Ref/GetAtt of ANY resource of the template
    (its `query_for_resource` checks no type): the filtered copy keeps what the kept resources
    reference, or a compliant permission would be reported."""
    from stacks.compliance.control_tower import _jobs

    template = tmp_path / "Probe.template.json"
    template.write_text(json.dumps({"Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Role": "arn:aws:iam::111122223333:role/r", "Runtime": "python3.13", "Handler": "h.h",
            "Code": {"ZipFile": "x"}}},
        "Nightly": {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "rate(1 day)"}},
        "Invoke": {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "Fn"},
            "Principal": "events.amazonaws.com", "SourceArn": {"Fn::GetAtt": ["Nightly", "Arn"]}}},
    }}))
    found = _found(_jobs([str(template)]))
    assert found == _found(_jobs([str(template)], relevant_rules_only=False))
    assert "CT.LAMBDA.PR.2" not in {control_of(rule) for rule, _ in found}
