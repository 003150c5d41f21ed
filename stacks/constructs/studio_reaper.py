"""The Studio reaper: nothing a notebook deployed and forgot keeps billing (issue 21).

A function (lambdas/studio_reaper, plain boto3) run by EventBridge Scheduler every
`studio.deploy.reaper_rate_minutes` finds endpoints carrying the owner tag the Studio
guardrails require on create, and deletes those idle for `idle_hours` or older than their
`ttl-hours` tag (endpoint, endpoint config, models), one run after notifying the owner on
its own KMS-encrypted topic; `dry_run` only reports. The platform's own endpoints are in
its environment as a deny list and in an explicit Deny of its role, so neither a code
fault nor an owner tag on one can make it touch them. docs/studio.md, "Reaper".
"""

from __future__ import annotations

from typing import Protocol, Sequence

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct
from studio_reaper.tags import NOTIFIED_TAG, OWNER_TAG

from stacks.compliance.nag import acknowledge, finding_id
from stacks.config import StudioDeployConfig
from stacks.constructs.idle_sleeper import invoke_on_schedule
from stacks.constructs.python_function import FunctionNetwork, PythonFunction

REAPER_TIMEOUT = Duration.minutes(3)
# Service Authorization Reference, "Actions, resources, and condition keys for Amazon
# SageMaker" (docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html):
# DeleteEndpoint, DeleteEndpointConfig, DeleteModel and AddTags act on the endpoint,
# endpoint-config and model resource types, whose condition keys include
# sagemaker:ResourceTag/${TagKey}; AddTags also takes aws:TagKeys. ListEndpoints has no
# resource type (Resource "*" only); ListTags and the Describe* calls take resource ARNs.
OWNER_PRESENT = {"Null": {f"sagemaker:ResourceTag/{OWNER_TAG}": "false"}}

_WILDCARD_REASON = (
    "sagemaker:ListEndpoints supports no resource-level permissions (Service Authorization Reference: no "
    "resource type), nor does cloudwatch:GetMetricData; X-Ray PutTraceSegments/PutTelemetryRecords neither."
)
_ARN_PATTERN_REASONS = {
    "endpoint": "Notebook endpoints get names at deploy time from the SageMaker SDK, unknown here: reading them "
                "covers this account's and region's endpoints; deleting and tagging them only where they carry "
                "the fm:owner tag (sagemaker:ResourceTag Null false), and the platform's endpoints are denied.",
    "endpoint-config": "A notebook endpoint's config is named by the SDK at deploy time: describing covers this "
                       "account's and region's configs, deleting only those carrying the fm:owner tag.",
    "model": "A notebook endpoint's models are named by the SDK at deploy time: deleting is limited to models "
             "of this account and region that carry the fm:owner tag.",
}


class DeployedEndpoint(Protocol):
    """A platform endpoint construct (`JumpStartEndpoint`, `SharedEndpoint`)."""

    endpoint_name: str
    endpoint_arn: str


class StudioReaper(Construct):
    """`Notices` topic, `Reaper` function, `Schedule` and its `ScheduleRole`.

    Args:
        deploy: config `studio.deploy` (idle_hours, ttl_hours, reaper_rate_minutes, dry_run).
        platform_endpoints: this app's endpoints: never touched (deny list and IAM Deny).
        key: encrypts the topic, the function's environment and its log group.
        network: where the function attaches (config `network.functions_in_vpc`); None: no VPC.
    """

    def __init__(self, scope: Construct, id_: str, *, deploy: StudioDeployConfig, project_name: str,
                 platform_endpoints: Sequence[DeployedEndpoint], key: kms.IKey,
                 log_retention: logs.RetentionDays, network: FunctionNetwork | None = None) -> None:
        super().__init__(scope, id_)
        # Its own topic, not the operators' alarm topic: owners subscribe to their own notices
        # (filter policy on the `owner` message attribute). The publisher is this function's
        # role, an IAM principal of this account, so the SSL-only topic policy needs no Allow.
        self.topic = sns.Topic(self, "Notices", display_name=f"{project_name} Studio endpoint notices",
                               master_key=key, enforce_ssl=True)
        CfnOutput(self, "NoticesTopicArn", value=self.topic.topic_arn,
                  description="Studio reaper notices: subscribe each user with a filter policy on the owner attribute")
        reaper = PythonFunction(
            self, "Reaper", handler="studio_reaper.handler.lambda_handler",
            description="Deletes Studio notebook endpoints left idle or past their TTL, after a notice",
            timeout=REAPER_TIMEOUT, memory_mb=256, reserved_concurrency=None, key=key,
            log_retention=log_retention, powertools=False, code="studio_reaper",
            environment=self._environment(deploy, platform_endpoints),
            why_no_dlq=(
                "Run on a schedule and idempotent: a failed run is logged and counted in the Errors metric, "
                "and the next run repeats the whole check, so a dead-letter queue would only hold stale ticks."
            ),
            why_no_vpc=(
                "Runs outside a VPC: it calls only the SageMaker, CloudWatch and SNS APIs over TLS with SigV4, "
                "and network.functions_in_vpc is off."
            ),
            wildcard_reason=_WILDCARD_REASON, network=network,
        )
        self.role, self.function = reaper.role, reaper.function
        self._grant(key, platform_endpoints)
        self.schedule = invoke_on_schedule(
            self, self.function, rate=Duration.minutes(deploy.reaper_rate_minutes), what="Studio reaper",
            description=f"Studio reaper: every {deploy.reaper_rate_minutes} min, notebook endpoints idle or past TTL",
            role_description="Runs the Studio reaper on schedule",
        )

    def _environment(self, deploy: StudioDeployConfig, platform: Sequence[DeployedEndpoint]) -> dict[str, str]:
        return {
            "IDLE_HOURS": str(deploy.idle_hours), "TTL_HOURS": str(deploy.ttl_hours),
            "RATE_MINUTES": str(deploy.reaper_rate_minutes), "DRY_RUN": str(deploy.dry_run).lower(),
            "TOPIC_ARN": self.topic.topic_arn,
            "PLATFORM_ENDPOINTS_JSON": Stack.of(self).to_json_string([e.endpoint_name for e in platform]),
        }

    def _grant(self, key: kms.IKey, platform: Sequence[DeployedEndpoint]) -> None:
        stack = Stack.of(self)
        arns = {kind: stack.format_arn(service="sagemaker", resource=kind, resource_name="*")
                for kind in _ARN_PATTERN_REASONS}
        statements = [
            iam.PolicyStatement(sid="ListEndpoints", actions=["sagemaker:ListEndpoints"], resources=["*"]),
            iam.PolicyStatement(sid="ReadEndpoints", actions=["sagemaker:ListTags", "sagemaker:DescribeEndpoint"],
                                resources=[arns["endpoint"]]),
            iam.PolicyStatement(sid="ReadEndpointConfigs", actions=["sagemaker:DescribeEndpointConfig"],
                                resources=[arns["endpoint-config"]]),
            iam.PolicyStatement(
                sid="DeleteNotebookDeployments",
                actions=["sagemaker:DeleteEndpoint", "sagemaker:DeleteEndpointConfig", "sagemaker:DeleteModel"],
                resources=list(arns.values()), conditions=OWNER_PRESENT,
            ),
            iam.PolicyStatement(
                sid="MarkNotifiedEndpoints", actions=["sagemaker:AddTags"], resources=[arns["endpoint"]],
                conditions={**OWNER_PRESENT, "ForAllValues:StringEquals": {"aws:TagKeys": [NOTIFIED_TAG]}},
            ),
            iam.PolicyStatement(sid="ReadInvocationMetrics", actions=["cloudwatch:GetMetricData"], resources=["*"]),
            iam.PolicyStatement(sid="NotifyOwners", actions=["sns:Publish"], resources=[self.topic.topic_arn]),
            # SNS Developer Guide, "Key management" (publishers to an encrypted topic need
            # kms:GenerateDataKey and kms:Decrypt on its key).
            iam.PolicyStatement(sid="EncryptNotices", actions=["kms:GenerateDataKey", "kms:Decrypt"],
                                resources=[key.key_arn]),
        ]
        if platform:
            statements.append(iam.PolicyStatement(
                sid="NeverTouchPlatformEndpoints", effect=iam.Effect.DENY,
                actions=["sagemaker:DeleteEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:AddTags",
                         "sagemaker:DeleteTags"],
                resources=[e.endpoint_arn for e in platform],
            ))
        for statement in statements:
            self.role.add_to_policy(statement)
        for kind, arn in arns.items():
            acknowledge(self.role.policy, _ARN_PATTERN_REASONS[kind], finding_id(self, "AwsSolutions-IAM5", arn))
