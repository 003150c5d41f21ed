"""Stack: the SageMaker Studio domain, its key and its bucket."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.config import AppConfig
from stacks.constructs.encryption import (
    allow_log_group_encryption,
    limit_grants_to_aws_services,
)
from stacks.constructs.jumpstart_endpoint import JumpStartEndpoint
from stacks.constructs.network import Network
from stacks.constructs.secure_bucket import AccessLogBucket, SecureBucket
from stacks.constructs.studio_domain import StudioDomain


class StudioStack(Stack):
    """A `StudioDomain` in the network's private subnets, granted this deployment's
    endpoints. The key and the buckets are retained when the stack is deleted."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: AppConfig,
        network: Network,
        endpoints: list[JumpStartEndpoint],
        **kwargs,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.key = kms.Key(
            self,
            "Key",
            description=f"{config.project_name} Studio: home volume, spaces, bucket, logs",
            enable_key_rotation=True,
            # Home directories on the retained EFS volume stay readable only with it.
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        # The cleanup function's log group is encrypted with it too.
        allow_log_group_encryption(self.key)
        limit_grants_to_aws_services(self.key)
        access_logs = AccessLogBucket(self, "AccessLogs").bucket
        self.bucket = SecureBucket(
            self, "Bucket", key=self.key, access_logs=access_logs, log_prefix="studio-bucket/",
            object_lock=config.object_lock,
        ).bucket
        self.studio = StudioDomain(
            self,
            "Studio",
            config=config.studio,
            domain_name=f"{config.project_name}-studio",
            vpc=network.vpc,
            subnet_ids=network.subnet_ids,
            key=self.key,
            bucket=self.bucket,
            log_retention_days=config.log_retention_days,
        )
        self.studio.grant_endpoints(endpoints)
