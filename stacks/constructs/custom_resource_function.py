"""The one way this app builds a function that only CloudFormation invokes: the
handler of a custom resource (Studio cleanup, Network teardown guard)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.constructs.roles import ManagedPolicyRole
from stacks.control_tower import acknowledge_control
from stacks.log_retention import log_retention
from stacks.nag import acknowledge
from stacks.scanner import skip_checkov

# Both handlers live in one plain-asset package (boto3 only, no bundling).
CODE = Path(__file__).resolve().parents[2] / "lambdas" / "studio_cleanup"
RUNTIME = lambda_.Runtime.PYTHON_3_14

_NO_DLQ = (
    "CloudFormation is the only caller; a failure is reported to CloudFormation through the "
    "response URL and shows as the stack event, so a dead-letter queue would hold nothing to act on."
)


@dataclass(frozen=True)
class WhyNot:
    """The reasons, per function, for what a custom-resource handler does without."""

    vpc: str
    """Why it runs outside a VPC (cdk-nag LambdaInsideVPC, Control Tower CT.LAMBDA.PR.3)."""
    vpc_checkov: str
    """The same for checkov's CKV_AWS_117."""
    reservation: str
    """Why it reserves no concurrency (cdk-nag LambdaConcurrency, checkov CKV_AWS_115)."""


def custom_resource_function(
    scope: Construct,
    *,
    handler: str,
    description: str,
    role_description: str,
    statements: list[iam.PolicyStatement],
    timeout: Duration,
    log_key: kms.IKey,
    log_retention_days: int,
    why_not: WhyNot,
) -> tuple[ManagedPolicyRole, lambda_.Function]:
    """`Role`, `LogGroup` and `Function` children of `scope`: a role of our own with
    `statements` plus write access to the function's own KMS-encrypted log group
    (deleted with the stack), arm64, X-Ray, JSON logs, no reserved concurrency, and
    the nag/checkov/Control Tower acknowledgments every such handler needs."""
    role = ManagedPolicyRole(
        scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=role_description
    )
    for statement in statements:
        role.add_to_policy(statement)
    log_group = logs.LogGroup(
        scope,
        "LogGroup",
        encryption_key=log_key,
        retention=log_retention(log_retention_days),
        removal_policy=RemovalPolicy.DESTROY,
    )
    # A role of our own replaces AWSLambdaBasicExecutionRole: write to this group only.
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        "Function",
        runtime=RUNTIME,
        architecture=lambda_.Architecture.ARM_64,
        handler=handler,
        code=lambda_.Code.from_asset(str(CODE), exclude=["__pycache__", "*.pyc"]),
        role=role,
        timeout=timeout,
        memory_size=256,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        tracing=lambda_.Tracing.ACTIVE,
        description=description,
    )
    acknowledge(function, why_not.vpc, "NIST.800.53.R5-LambdaInsideVPC", "HIPAA.Security-LambdaInsideVPC")
    acknowledge_control(function, "CT.LAMBDA.PR.3", why_not.vpc)
    skip_checkov(function, "CKV_AWS_117", why_not.vpc_checkov)
    acknowledge(function, _NO_DLQ, "Serverless-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "HIPAA.Security-LambdaDLQ")
    skip_checkov(function, "CKV_AWS_116", _NO_DLQ)
    acknowledge(function, why_not.reservation, "NIST.800.53.R5-LambdaConcurrency", "HIPAA.Security-LambdaConcurrency")
    skip_checkov(function, "CKV_AWS_115", why_not.reservation)
    return role, function
