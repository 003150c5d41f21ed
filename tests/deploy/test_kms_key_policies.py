"""KMS key policies cover every AWS service principal that uses the key.

A customer managed key can be used by a service principal only if the key policy
says so: an IAM policy cannot grant anything to `logs.<region>.amazonaws.com` or
`cloudwatch.amazonaws.com`. These tests walk every resource that hands a key to a
service -- every `AWS::Logs::LogGroup` with `KmsKeyId`, every KMS-encrypted SNS topic
that an alarm notifies -- follow the reference to the `AWS::KMS::Key` (within or
across stacks) and check its `KeyPolicy` for the statement the service's own
documentation requires. A missing statement fails the deploy (log groups: the
CreateLogGroup call is refused) or silently drops every alarm notification (topics).
"""

from __future__ import annotations

import fnmatch

from tests.deploy.model import (
    Deployment,
    Res,
    alarm_topics,
    allows_action,
    assert_none,
    condition_values,
    key_policy,
    service_principals,
)

# The key policy statement in "Encrypt log data in CloudWatch Logs using AWS Key
# Management Service" grants kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*,
# kms:GenerateDataKey*, kms:Describe*; these are the operations those patterns cover.
LOGS_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
)
LOGS_CONTEXT_KEY = "kms:EncryptionContext:aws:logs:arn"

# "Enable compatibility between event sources from AWS services and encrypted topics":
# the publishing service needs kms:GenerateDataKey* and kms:Decrypt.
ALARM_TOPIC_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


def _key(dep: Deployment, holder: Res, prop: str) -> Res | None:
    key = dep.ref(holder.stack, holder.props.get(prop))
    return key if key is not None and key.type == "AWS::KMS::Key" else None


def _uncovered(statements: list[dict], actions: tuple[str, ...]) -> list[str]:
    return [a for a in actions if not any(allows_action(s, a) for s in statements)]


def test_log_group_keys_allow_cloudwatch_logs(deployment):
    """Every KMS key of a log group allows `logs.<region>.amazonaws.com` in its key policy
    (kms:Encrypt*, Decrypt*, ReEncrypt*, GenerateDataKey*, Describe*), with an
    ArnLike/ArnEquals condition on `kms:EncryptionContext:aws:logs:arn` that matches the
    log group; without it CreateLogGroup with KmsKeyId fails.

    Source: Amazon CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using
    AWS Key Management Service",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    """
    dep = deployment
    principal = f"logs.{dep.region}.amazonaws.com"
    problems = []
    for log_group in dep.resources("AWS::Logs::LogGroup"):
        if log_group.props.get("KmsKeyId") is None:
            continue
        key = _key(dep, log_group, "KmsKeyId")
        if key is None:
            problems.append(f"{dep.name}: {log_group}: KmsKeyId is not a key of this deployment; its policy is unchecked")
            continue
        log_group_arn = dep.arn(log_group)
        granting = [
            s
            for s in key_policy(key)
            if principal in service_principals(dep, key.stack, s)
            and any(
                v and fnmatch.fnmatchcase(log_group_arn, v)
                for v in condition_values(dep, key.stack, s, LOGS_CONTEXT_KEY, ("ArnLike", "ArnEquals"))
            )
        ]
        missing = _uncovered(granting, LOGS_ACTIONS)
        if missing:
            problems.append(
                f"{dep.name}: {log_group} uses {key}, whose policy does not allow {principal} "
                f"{', '.join(missing)} under an ArnLike/ArnEquals {LOGS_CONTEXT_KEY} condition matching {log_group_arn}"
            )
    assert_none(problems, "log group KMS keys must allow CloudWatch Logs in the key policy")


def test_alarm_topic_keys_allow_cloudwatch(deployment):
    """Every KMS-encrypted SNS topic that a CloudWatch alarm notifies uses a customer
    managed key whose key policy allows `cloudwatch.amazonaws.com` kms:Decrypt and
    kms:GenerateDataKey*; otherwise CloudWatch cannot publish the notification.

    Source: Amazon SNS Developer Guide, "Managing Amazon SNS encryption keys and costs",
    section "Enable compatibility between event sources from AWS services and encrypted
    topics", https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
    """
    dep = deployment
    problems = []
    for topic in alarm_topics(dep):
        if topic.props.get("KmsMasterKeyId") is None:
            continue
        key = _key(dep, topic, "KmsMasterKeyId")
        if key is None:
            value = dep.render(topic.stack, topic.props["KmsMasterKeyId"])
            problems.append(
                f"{dep.name}: {topic} is encrypted with {value!r}, not a customer managed key of this "
                "deployment (an AWS managed key's policy cannot allow cloudwatch.amazonaws.com)"
            )
            continue
        granting = [s for s in key_policy(key) if "cloudwatch.amazonaws.com" in service_principals(dep, key.stack, s)]
        missing = _uncovered(granting, ALARM_TOPIC_ACTIONS)
        if missing:
            problems.append(f"{dep.name}: {topic} uses {key}, whose policy does not allow cloudwatch.amazonaws.com {missing}")
    assert_none(problems, "alarm topics' KMS keys must allow CloudWatch to use them")
