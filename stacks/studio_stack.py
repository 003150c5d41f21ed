"""Stack: the SageMaker Studio domain, its key and its bucket."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.config import AppConfig
from stacks.constructs.encryption import (
    allow_log_group_encryption,
    limit_grants_to_aws_services,
)
from stacks.constructs.jumpstart_endpoint import JumpStartEndpoint
from stacks.constructs.log_retention import log_retention
from stacks.constructs.network import Network
from stacks.constructs.secure_bucket import AccessLogBucket, SecureBucket
from stacks.constructs.studio_deploy import NotebookDeployGuardrails
from stacks.constructs.studio_domain import StudioDomain
from stacks.constructs.studio_notebook import LectureNotebook
from stacks.constructs.studio_reaper import StudioReaper
from stacks.models.notebook_deploys import notebook_deploys


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
        deploys = notebook_deploys(config)
        # Where notebooks may deploy, each JupyterLab space gets the lecture notebook (docs/studio.md).
        self.lecture_notebook = deploys and LectureNotebook(self, "LectureNotebook", config=config, deploys=deploys)
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
            jupyter_lifecycle_config_arn=self.lecture_notebook.arn if self.lecture_notebook else None,
        )
        self.studio.grant_endpoints(endpoints)
        # studio.deploy.enabled: notebooks may deploy within guardrails (off: the role stays read-only).
        self.notebook_deploys = deploys and NotebookDeployGuardrails(
            self, "NotebookDeploys", deploys=deploys, execution_role=self.studio.role, key=self.key
        )
        if self.lecture_notebook and self.notebook_deploys:
            self.lecture_notebook.use_model_role(self.notebook_deploys.model_role.role_arn)
        self.reaper = self._build_reaper(config, network, endpoints) if config.studio.deploy.enabled else None

    def _build_reaper(self, config: AppConfig, network: Network, endpoints: list[JumpStartEndpoint]) -> StudioReaper:
        """Deletes what notebooks deployed and left idle or past its TTL (docs/studio.md, Reaper)."""
        function_network = network.function_network()
        if function_network is not None:
            # It notifies owners on SNS, which no other function in the VPC calls.
            network.add_function_endpoint("Sns", ec2.InterfaceVpcEndpointAwsService.SNS)
        return StudioReaper(
            self, "Reaper", deploy=config.studio.deploy, project_name=config.project_name,
            platform_endpoints=endpoints, key=self.key,
            log_retention=log_retention(config.log_retention_days), network=function_network,
        )
