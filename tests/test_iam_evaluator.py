"""tests/iam_evaluator.py against the rules the IAM User Guide states (each case names its
page), so the Studio policy evaluations (tests/deploy/test_studio_notebook_deploys.py) rest
on a checked evaluator."""

from __future__ import annotations

import pytest

from tests.iam_evaluator import Request, decide

ARN = "arn:aws:sagemaker:us-east-1:111122223333:endpoint-config/cfg"
ALLOW_TYPES = {
    "Effect": "Allow",
    "Action": "sagemaker:CreateEndpointConfig",
    "Resource": "arn:aws:sagemaker:us-east-1:111122223333:endpoint-config/*",
    "Condition": {"ForAllValues:StringEquals": {"sagemaker:InstanceTypes": ["ml.g5.2xlarge"]}},
}


def _req(**context) -> Request:
    return Request("sagemaker:CreateEndpointConfig", ARN, context)


@pytest.mark.parametrize("types", [None, []])
def test_for_all_values_alone_holds_for_a_missing_or_empty_key(types):
    """"Set operators for multivalued context keys": ForAllValues returns true if the key is
    missing or has an empty set of values -- the loophole the Null check closes."""
    context = {} if types is None else {"sagemaker:InstanceTypes": types}
    assert decide([ALLOW_TYPES], _req(**context)) == "Allow"
    with_null = {**ALLOW_TYPES, "Condition": {**ALLOW_TYPES["Condition"], "Null": {"sagemaker:InstanceTypes": "false"}}}
    assert decide([with_null], _req(**context)) == "ImplicitDeny"


def test_for_all_values_needs_every_value_in_the_set():
    assert decide([ALLOW_TYPES], _req(**{"sagemaker:InstanceTypes": ["ml.g5.2xlarge"]})) == "Allow"
    assert decide([ALLOW_TYPES], _req(**{"sagemaker:InstanceTypes": ["ml.g5.2xlarge", "ml.p4d.24xlarge"]})) == "ImplicitDeny"


def test_for_any_value_needs_one_value_and_is_false_for_a_missing_key():
    s = {**ALLOW_TYPES, "Condition": {"ForAnyValue:StringLike": {"sagemaker:InstanceTypes": ["ml.g5.*"]}}}
    assert decide([s], _req(**{"sagemaker:InstanceTypes": ["ml.p4d.24xlarge", "ml.g5.2xlarge"]})) == "Allow"
    assert decide([s], _req()) == "ImplicitDeny"


def test_an_explicit_deny_wins():
    """"Policy evaluation logic": an explicit deny in any policy overrides any allow."""
    deny = {**ALLOW_TYPES, "Effect": "Deny", "Condition": {}}
    assert decide([ALLOW_TYPES, deny], _req(**{"sagemaker:InstanceTypes": ["ml.g5.2xlarge"]})) == "ExplicitDeny"


def test_a_policy_variable_resolves_from_the_context_and_otherwise_matches_nothing():
    """"IAM policy elements: Variables and tags": a variable AWS cannot resolve may make the
    statement invalid; here it never matches."""
    s = {**ALLOW_TYPES, "Condition": {"StringEquals": {"aws:RequestTag/owner": "${aws:SourceIdentity}"}}}
    assert decide([s], _req(**{"aws:RequestTag/owner": "alice", "aws:SourceIdentity": "alice"})) == "Allow"
    assert decide([s], _req(**{"aws:RequestTag/owner": "bob", "aws:SourceIdentity": "alice"})) == "ImplicitDeny"
    assert decide([s], _req(**{"aws:RequestTag/owner": "${aws:SourceIdentity}"})) == "ImplicitDeny"


def test_if_exists_holds_for_a_missing_key_and_checks_a_present_one():
    s = {**ALLOW_TYPES, "Condition": {"ArnEqualsIfExists": {"sagemaker:VolumeKmsKey": "arn:aws:kms:us-east-1:1:key/k"}}}
    assert decide([s], _req()) == "Allow"
    assert decide([s], _req(**{"sagemaker:VolumeKmsKey": "arn:aws:kms:us-east-1:1:key/k"})) == "Allow"
    assert decide([s], _req(**{"sagemaker:VolumeKmsKey": "arn:aws:kms:us-east-1:1:key/other"})) == "ImplicitDeny"


def test_condition_keys_are_case_insensitive_and_resources_are_not():
    s = {**ALLOW_TYPES, "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
    assert decide([s], _req(**{"KMS:grantisforawsresource": True})) == "Allow"
    assert decide([s], Request("sagemaker:createendpointconfig", ARN.upper(), {"kms:GrantIsForAWSResource": True})) == (
        "ImplicitDeny")


def test_an_operator_it_does_not_model_is_refused():
    s = {**ALLOW_TYPES, "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}}
    with pytest.raises(ValueError, match="not modelled"):
        decide([s], _req())
