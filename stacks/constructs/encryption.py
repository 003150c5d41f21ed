"""The customer-managed key a stack encrypts its data, logs and alarm topic with,
and the key-policy statements service principals need to use such a key.

A key policy is the only way to let a service principal use a key: IAM policies
cannot grant to `logs.<region>.amazonaws.com` or `cloudwatch.amazonaws.com`.
"""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


def allow_log_group_encryption(key: kms.Key) -> None:
    """Let CloudWatch Logs use `key` for this account's log groups in this region only.

    Source: CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using
    AWS Key Management Service" (key policy for `logs.<region>.amazonaws.com`,
    scoped by the `kms:EncryptionContext:aws:logs:arn` condition). Without it,
    CreateLogGroup with a KmsKeyId fails and so does the stack.
    """
    logs_arns = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": logs_arns}},
        )
    )


def allow_alarms_to_encrypted_topics(key: kms.Key) -> None:
    """Let CloudWatch alarms publish to SNS topics encrypted with `key`.

    Source: SNS Developer Guide, "Enable compatibility between event sources from
    AWS services and encrypted topics" (cloudwatch.amazonaws.com needs kms:Decrypt
    and kms:GenerateDataKey* in the key policy).
    """
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToEncryptedTopic",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
        )
    )


def limit_grants_to_aws_services(key: kms.Key) -> None:
    """Deny kms:CreateGrant unless the grant is for an AWS resource or the caller is an
    AWS service (AWS Control Tower proactive control CT.KMS.PR.3). SageMaker, DynamoDB,
    SQS and the other services that use these keys create grants for their resources,
    which this still allows; a principal cannot hand the key to anyone else by a grant.
    """
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="DenyGrantsNotForAwsResources",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
        )
    )


class DataKey(Construct):
    """A rotating CMK that CloudWatch Logs and CloudWatch alarms may use.

    Retained on update and delete (data encrypted with it must stay readable), but
    not after a failed first create (`RetainExceptOnCreate`): nothing was ever
    encrypted with it then, and a retained key would be an orphan that bills.
    """

    def __init__(self, scope: Construct, id_: str, *, description: str) -> None:
        super().__init__(scope, id_)
        self.key = kms.Key(
            self,
            "Key",
            description=description,
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        allow_alarms_to_encrypted_topics(self.key)
        allow_log_group_encryption(self.key)
        limit_grants_to_aws_services(self.key)
