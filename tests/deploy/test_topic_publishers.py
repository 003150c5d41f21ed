"""Every role that publishes to an SNS topic of the deployment can do so.

Publishing to a topic with server-side encryption is done with the publisher's own KMS
permissions: SNS calls kms:GenerateDataKey and kms:Decrypt on the topic's key as the
caller. IAM policies count for a customer managed key only if its key policy delegates
to the account. And a topic policy replaces SNS's default policy: within one account an
identity-policy Allow suffices, but an unconditional Deny in the topic policy still wins.
Missing any of these, the Publish call fails at run time (KMSAccessDeniedException,
AuthorizationError), never at deploy. The publishers here: the Studio reaper's role
(owner notices). CloudWatch alarms publish as a service: tests/deploy/test_alarm_delivery.py.
"""

from __future__ import annotations

from tests.deploy.model import (
    ACCOUNT,
    Deployment,
    Res,
    allows_action,
    assert_none,
    covers,
    identity_documents,
    key_policy,
    listify,
    may_use_key,
    statements,
)


def _publishers(dep: Deployment) -> list[tuple[Res, Res]]:
    """(role, topic) for every IAM role whose identity policies allow sns:Publish on a topic."""
    pairs = []
    topics = dep.resources("AWS::SNS::Topic")
    for role in dep.resources("AWS::IAM::Role"):
        for stack, document in identity_documents(dep, role):
            for statement in statements(document):
                if not allows_action(statement, "sns:Publish"):
                    continue
                pairs += [(role, t) for t in topics if covers(dep, stack, statement, t) and (role, t) not in pairs]
    return pairs


def _delegates_to_account(dep: Deployment, key: Res) -> bool:
    for statement in key_policy(key):
        principal = statement.get("Principal")
        aws = listify(principal.get("AWS")) if isinstance(principal, dict) else []
        rendered = {dep.render(key.stack, a) for a in aws}
        if allows_action(statement, "kms:GenerateDataKey") and rendered & {f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT}:
            return True
    return False


def test_publishers_may_use_the_topic_key(deployment):
    """For an encrypted topic, each publishing role may kms:GenerateDataKey and kms:Decrypt
    on the topic's key, by an identity policy the key policy lets count (account delegation).

    Sources: Amazon SNS Developer Guide, "Key management" (publishers to an encrypted topic
    need kms:GenerateDataKey* and kms:Decrypt on its key),
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html ; AWS KMS Developer
    Guide, "Default key policy" (the statement that allows the account root enables IAM
    policies), https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
    """
    dep = deployment
    problems = []
    for role, topic in _publishers(dep):
        if topic.props.get("KmsMasterKeyId") is None:
            continue
        key = dep.ref(topic.stack, topic.props["KmsMasterKeyId"])
        if key is None or key.type != "AWS::KMS::Key":
            problems.append(f"{dep.name}: {topic}'s key is not a key of this deployment; unchecked")
            continue
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            if not may_use_key(dep, role, key, action, grant_condition=False):
                problems.append(f"{dep.name}: {role} publishes to {topic} but may not {action} on {key}")
        if not _delegates_to_account(dep, key):
            problems.append(f"{dep.name}: {key}'s policy does not let IAM policies grant its use")
    assert_none(problems, "publishers to an encrypted topic need its key")


def test_topic_policies_do_not_deny_publishers(deployment):
    """No topic policy has a Deny of sns:Publish without a condition that a publisher
    over TLS meets (CDK's enforce_ssl Deny is conditioned on aws:SecureTransport false).

    Source: IAM User Guide, "Policy evaluation logic" (an explicit Deny in a resource-based
    policy overrides any Allow),
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    """
    dep = deployment
    problems = []
    published = {topic for _, topic in _publishers(dep)}
    for policy in dep.resources("AWS::SNS::TopicPolicy"):
        for statement in statements(policy.props.get("PolicyDocument")):
            if statement.get("Effect") != "Deny" or not any(
                a.lower() in ("sns:publish", "sns:*", "*") for a in listify(statement.get("Action"))
            ):
                continue
            condition = statement.get("Condition") or {}
            ssl_only = condition == {"Bool": {"aws:SecureTransport": "false"}}
            for topic in published:
                if covers(dep, policy.stack, statement, topic) and not ssl_only:
                    problems.append(f"{dep.name}: {policy} denies sns:Publish on {topic}: {statement}")
    assert_none(problems, "topic policies must not deny this deployment's publishers")


def test_the_studio_configs_have_a_publisher():
    """Not vacuous: the Studio reaper publishes owner notices to its encrypted topic."""
    from tests.deploy.model import load

    for name in ("studio-vpc", "studio-imported-vpc"):
        pairs = _publishers(load(name))
        assert any(role.stack == "Studio" and topic.props.get("KmsMasterKeyId") for role, topic in pairs), name
