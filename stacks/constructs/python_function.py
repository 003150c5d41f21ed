"""The one way this app ships Python Lambda code."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.constructs.roles import ManagedPolicyRole
from stacks.control_tower import acknowledge_control
from stacks.nag import acknowledge
from stacks.scanner import skip_checkov

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"
# Powertools for AWS Lambda (Python) v3 public layer, published by AWS in every
# commercial region under this account (docs.aws.amazon.com/powertools/python).
POWERTOOLS_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_VERSION = 27
RUNTIME = lambda_.Runtime.PYTHON_3_13
PYTHON_TAG = "python313"

# Lambda: "You can reserve up to the unreserved account concurrency minus 100"
# (Configuring reserved concurrency); new accounts often have a quota of 10 or 50.
_NO_RESERVATION = (
    "No reserved concurrency by default: reservations need an account quota above the "
    "reservation plus 100, which new accounts lack, and a failed first deploy helps no one; "
    "api.reserved_concurrency sets one for the front door, and the jobs worker is bounded by its "
    "SQS event source's MaximumConcurrency instead."
)
_XRAY_REASON = "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions."


class PythonFunction(Construct):
    """A Python 3.13 arm64 function from the `lambdas/` asset directory (no Docker
    bundling; boto3 is in the runtime), with a managed-policy role, a KMS-encrypted
    log group and environment, X-Ray, optional reserved concurrency, and optionally
    Powertools (with pydantic) as its public layer.

    The nag findings every such function raises are acknowledged here with the
    caller's reasons, and the same reasons are recorded as checkov skips.

    Args:
        why_no_dlq: why a Lambda dead-letter queue would never receive anything.
        why_no_vpc: why the function runs outside a VPC.
        wildcard_reason: why the role has `Resource: *` statements (default: X-Ray only).
    """

    def __init__(self, scope: Construct, id_: str, *, handler: str, description: str,
                 timeout: Duration, reserved_concurrency: int | None, environment: dict[str, str],
                 key: kms.IKey, log_retention: logs.RetentionDays, why_no_dlq: str, why_no_vpc: str,
                 memory_mb: int = 512, powertools: bool = True, wildcard_reason: str = _XRAY_REASON) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.role = ManagedPolicyRole(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description
        )
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        layers, env = [], dict(environment)
        if powertools:
            layers.append(lambda_.LayerVersion.from_layer_version_arn(
                self,
                "Powertools",
                f"arn:{stack.partition}:lambda:{stack.region}:{POWERTOOLS_ACCOUNT}:layer:"
                f"AWSLambdaPowertoolsPythonV3-{PYTHON_TAG}-arm64:{POWERTOOLS_LAYER_VERSION}",
            ))
            env = {
                "POWERTOOLS_SERVICE_NAME": id_.lower(),
                "POWERTOOLS_METRICS_NAMESPACE": "FmPlatform",
                "LOG_LEVEL": "INFO",
                **env,
            }
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            code=lambda_.Code.from_asset(
                str(LAMBDAS_DIR), exclude=["**/__pycache__", "**/*.pyc", "studio_cleanup", "**/tests"]
            ),
            handler=handler,
            description=description,
            timeout=timeout,
            memory_size=memory_mb,
            reserved_concurrent_executions=reserved_concurrency,
            role=self.role,
            layers=layers or None,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            environment_encryption=key,
            environment=env,
        )
        self.log_group.grant_write(self.role)
        # Environment variables are encrypted with this key.
        self.role.add_to_policy(iam.PolicyStatement(actions=["kms:Decrypt"], resources=[key.key_arn]))
        acknowledge(self.role.policy, wildcard_reason, "AwsSolutions-IAM5[Resource::*]")
        acknowledge(
            self.function,
            "Pinned to Python 3.13, the newest runtime whose Powertools v3 public layer this "
            "project pins and tests; move with the layer.",
            "AwsSolutions-L1",
            "Serverless-LambdaLatestVersion",
        )
        acknowledge(self.function, why_no_dlq, "NIST.800.53.R5-LambdaDLQ", "HIPAA.Security-LambdaDLQ",
                    "Serverless-LambdaDLQ")
        skip_checkov(self.function, "CKV_AWS_116", why_no_dlq)
        acknowledge(self.function, why_no_vpc, "NIST.800.53.R5-LambdaInsideVPC", "HIPAA.Security-LambdaInsideVPC")
        skip_checkov(self.function, "CKV_AWS_117", why_no_vpc)
        acknowledge_control(self.function, "CT.LAMBDA.PR.3", why_no_vpc)
        if reserved_concurrency is None:
            acknowledge(self.function, _NO_RESERVATION, "NIST.800.53.R5-LambdaConcurrency",
                        "HIPAA.Security-LambdaConcurrency")
            skip_checkov(self.function, "CKV_AWS_115", _NO_RESERVATION)
