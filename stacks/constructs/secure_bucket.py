"""S3 buckets with the project's defaults: private, TLS-only, versioned, retained."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.compliance.control_tower import acknowledge_control
from stacks.compliance.nag import acknowledge
from stacks.compliance.scanner import skip_checkov
from stacks.config import ObjectLockConfig

_OBJECT_LOCK_REASON = (
    "Object Lock is off unless the config sets `object_lock`: it cannot be undone and, with a "
    "default retention, holds every object version past the lifecycle expiry and stack teardown "
    "these short-lived objects rely on. Versioning plus noncurrent expiry keeps overwrites."
)
# S3 User Guide, "Configuring S3 Object Lock": "S3 buckets with Object Lock can't be used as
# destination buckets for server access logs."
_LOG_TARGET_NO_LOCK = (
    "This is the server-access-log target of the stack's buckets, and S3 buckets with Object Lock "
    "can't be used as destination buckets for server access logs (S3 User Guide, Object Lock)."
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
        acknowledge_control(self.bucket, "CT.S3.PR.9", _LOG_TARGET_NO_LOCK)
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
    """A KMS-encrypted, TLS-only, access-logged, versioned bucket, retained on delete.

    With `object_lock` (config `object_lock`) it has S3 Object Lock (AWS Control Tower
    CT.S3.PR.9) and every new object version gets its default retention, unless the caller
    says why some writer cannot upload under one (`why_no_default_retention`): S3 refuses an
    upload with a retention period that carries neither Content-MD5 nor a checksum header
    (S3 API Reference, PutObject: "The Content-MD5 or x-amz-sdk-checksum-algorithm header is
    required for any request to upload an object with a retention period configured using
    Amazon S3 Object Lock"). Lifecycle rules keep working on locked objects, delete markers
    included, but no locked version is removed before its retention ends (S3 User Guide,
    "Object Lock considerations", Managing S3 Lifecycle policies with Object Lock).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        key: kms.IKey,
        access_logs: s3.IBucket,
        log_prefix: str,
        expire_after_days: int | None = None,
        object_lock: ObjectLockConfig | None = None,
        why_no_default_retention: str | None = None,
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
            **_lock(object_lock, why_no_default_retention),
        )
        acknowledge(
            self.bucket,
            _REPLICATION_REASON,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "HIPAA.Security-S3BucketReplicationEnabled",
        )
        _notify_eventbridge(self.bucket)
        if object_lock is None:
            acknowledge_control(self.bucket, "CT.S3.PR.9", _OBJECT_LOCK_REASON)


def _lock(config: ObjectLockConfig | None, why_no_default_retention: str | None) -> dict:
    """The bucket's Object Lock properties; none at all without `config`, so templates of
    configs without `object_lock` stay as they were. Versioning, which Object Lock needs,
    is on for every SecureBucket."""
    if config is None:
        return {}
    if why_no_default_retention is not None:
        return {"object_lock_enabled": True}
    retention = s3.ObjectLockRetention.compliance if config.mode == "COMPLIANCE" else s3.ObjectLockRetention.governance
    return {
        "object_lock_enabled": True,
        "object_lock_default_retention": retention(Duration.days(config.retention_days)),
    }
