"""S3 buckets with the project's defaults: private, TLS-only, versioned, retained."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.control_tower import acknowledge_control
from stacks.nag import acknowledge
from stacks.scanner import skip_checkov

_OBJECT_LOCK_REASON = (
    "Object Lock cannot be undone and, with a default retention, would block the lifecycle "
    "expiry and stack teardown these short-lived objects rely on; S3 Object Lock buckets also "
    "cannot be server-access-log targets. Versioning plus noncurrent expiry keeps overwrites."
)


def _notify_eventbridge(bucket: s3.Bucket) -> None:
    """S3 event notifications to EventBridge (AWS Control Tower CT.S3.PR.4), set on the L1:
    the L2's `event_bridge_enabled` adds a custom-resource Lambda for the same setting.
    EventBridge does not charge for AWS service events on the default bus."""
    bucket.node.default_child.add_property_override(
        "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
    )


_REPLICATION_REASON = (
    "Cross-region replication is a disaster-recovery choice per deployment; the objects "
    "here (captured samples, job artifacts, access logs) are re-creatable or short-lived."
)


class AccessLogBucket(Construct):
    """Target of S3 server access logs for the other buckets of a stack.

    S3 log delivery writes with SSE-S3 only, so this bucket cannot use a
    customer-managed key, and logging it to itself would loop.
    """

    def __init__(self, scope: Construct, id_: str, *, retention_days: int = 365) -> None:
        super().__init__(scope, id_)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(retention_days),
                    noncurrent_version_expiration=Duration.days(30),
                )
            ],
        )
        _notify_eventbridge(self.bucket)
        acknowledge_control(self.bucket, "CT.S3.PR.9", _OBJECT_LOCK_REASON)
        acknowledge_control(
            self.bucket, "CT.S3.PR.2",
            "This is the server-access-log target of the stack's buckets; logging it to itself would loop.",
        )
        acknowledge_control(
            self.bucket, "CT.S3.PR.10",
            "S3 server access log delivery supports only SSE-S3 on the target bucket, not SSE-KMS.",
        )
        acknowledge(
            self.bucket,
            "This is the server-access-log target; logging it to itself would create a loop.",
            "AwsSolutions-S1",
            "NIST.800.53.R5-S3BucketLoggingEnabled",
            "HIPAA.Security-S3BucketLoggingEnabled",
        )
        skip_checkov(
            self.bucket,
            "CKV_AWS_18",
            "This bucket is the server-access-log target of the stack's other buckets; logging it "
            "to itself would loop, and to another bucket would only move the question there.",
        )
        acknowledge(
            self.bucket,
            "S3 server access log delivery supports only SSE-S3 on the target bucket, not SSE-KMS.",
            "NIST.800.53.R5-S3DefaultEncryptionKMS",
            "HIPAA.Security-S3DefaultEncryptionKMS",
        )
        acknowledge(
            self.bucket,
            _REPLICATION_REASON,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "HIPAA.Security-S3BucketReplicationEnabled",
        )


class SecureBucket(Construct):
    """A KMS-encrypted, TLS-only, access-logged, versioned bucket, retained on delete."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        key: kms.IKey,
        access_logs: s3.IBucket,
        log_prefix: str,
        expire_after_days: int | None = None,
    ) -> None:
        super().__init__(scope, id_)
        rules = [s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30))]
        if expire_after_days:
            rules.append(s3.LifecycleRule(expiration=Duration.days(expire_after_days)))
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=log_prefix,
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            lifecycle_rules=rules,
        )
        acknowledge(
            self.bucket,
            _REPLICATION_REASON,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "HIPAA.Security-S3BucketReplicationEnabled",
        )
        _notify_eventbridge(self.bucket)
        acknowledge_control(self.bucket, "CT.S3.PR.9", _OBJECT_LOCK_REASON)
