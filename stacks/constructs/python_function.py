"""The one way this app ships Python Lambda code: `PythonFunction`, and
`CustomResourceHandler`, a PythonFunction that only CloudFormation invokes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.compliance.control_tower import acknowledge_control
from stacks.compliance.nag import acknowledge, finding_id
from stacks.compliance.scanner import skip_checkov
from stacks.constructs.roles import ManagedPolicyRole

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"
# Powertools for AWS Lambda (Python) v3 public layer, published by AWS in every
# commercial region under this account (docs.aws.amazon.com/powertools/python).
POWERTOOLS_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_VERSION = 27
RUNTIME = lambda_.Runtime.PYTHON_3_13
PYTHON_TAG = "python313"
# Directories under lambdas/ that are assets of their own (plain boto3 handlers, no
# Powertools): `code=` names one; the shared asset leaves them out.
PLAIN_ASSETS = ("studio_cleanup",)
# Packages shipped alone, as a package (the asset root holds the package directory, so its
# modules import each other by absolute name as in the tests): plain boto3 handlers too.
PACKAGE_ASSETS = ("studio_reaper",)

# Lambda: "You can reserve up to the unreserved account concurrency minus 100"
# (Configuring reserved concurrency); new accounts often have a quota of 10 or 50.
_NO_RESERVATION = (
    "No reserved concurrency by default: reservations need an account quota above the "
    "reservation plus 100, which new accounts lack, and a failed first deploy helps no one; "
    "api.reserved_concurrency sets one for the front door, and the jobs worker is bounded by its "
    "SQS event source's MaximumConcurrency instead."
)
_XRAY_REASON = "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions."
# Lambda Developer Guide, "Giving Lambda functions access to resources in an Amazon VPC",
# Required IAM permissions (what AWSLambdaVPCAccessExecutionRole grants, minus logs, which
# the function's log group grant covers): Lambda creates and manages the function's
# Hyperplane network interfaces with the execution role. "ec2:DescribeNetworkInterfaces –
# This action only works if it's allowed on all resources"; for ec2:DeleteNetworkInterface
# "either specify a unique resource ID, or include all resource IDs", e.g.
# arn:aws:ec2:us-west-2:123456789012:*/*. So the describes get `*`, and creating, deleting
# and addressing interfaces this account's and region's resources only.
_VPC_WRITE_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:UnassignPrivateIpAddresses",
)
_VPC_DESCRIBE_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")
_VPC_DESCRIBE_REASON = (
    "In a VPC, Lambda describes the function's network interfaces and subnets with its role, and "
    "ec2:DescribeNetworkInterfaces only works on all resources (Lambda Developer Guide, VPC permissions)."
)
_VPC_INTERFACES_REASON = (
    "In a VPC, Lambda creates, deletes and addresses the function's Hyperplane network interfaces with "
    "its role; their ids are unknown before deploy, so the grant is every EC2 resource of this account "
    "and region, the scope the Lambda Developer Guide gives for ec2:DeleteNetworkInterface."
)
_SHARED_SUBNETS_REASON = (
    "An imported VPC may be shared through AWS RAM, whose subnets carry the owner's account in their "
    "ARN; Lambda creates the function's interfaces in them, so subnets of any account in this region."
)


@dataclass(frozen=True)
class FunctionNetwork:
    """Where a `PythonFunction` attaches when config `network.functions_in_vpc` is on: the
    network's private subnets and the functions' security group.

    The ids are plain strings in the function's own template (literal ids, or
    `{{resolve:ssm:...}}` references CloudFormation resolves at deploy time): AWS Control
    Tower's CT.LAMBDA.PR.3 Guard rule accepts in `VpcConfig` only non-empty strings or a
    Ref/GetAtt of a subnet or security group in the same template, and the functions live in
    other stacks than the network (`stacks.constructs.network.Network.function_network`).
    """

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    shared_subnets: bool = False  # an imported VPC: its subnets may be another account's (AWS RAM)


class PythonFunction(Construct):
    """A Python 3.13 arm64 function from the `lambdas/` asset directory (no Docker
    bundling; boto3 is in the runtime), with a managed-policy role, a KMS-encrypted
    log group and environment, X-Ray, optional reserved concurrency, and optionally
    Powertools (with pydantic) as its public layer.

    The nag findings every such function raises are acknowledged here with the
    caller's reasons, and the same reasons are recorded as checkov skips.

    Children: `Role`, `Logs`, `Function` (and the `Powertools` layer reference).

    Args:
        why_no_dlq: why a Lambda dead-letter queue would never receive anything.
        why_no_vpc: why the function runs outside a VPC (when `network` is None).
        network: the private subnets and security group the function attaches to (config
            `network.functions_in_vpc`); its role gets the VPC-access permissions Lambda needs.
        why_no_reservation: why it reserves no concurrency (when `reserved_concurrency` is None).
        wildcard_reason: why the role has `Resource: *` statements (default: X-Ray only).
        code: one of `PLAIN_ASSETS` to ship that directory alone, or of `PACKAGE_ASSETS` to ship
            that package alone (default: the shared
            `lambdas/` asset, in which every package is importable as the runtime sees it).
        log_removal: what happens to the log group when the function goes (default: retained).
        logging_format: Lambda's log format (JSON turns a plain handler's `logging` lines into
            JSON; Powertools' Logger writes JSON either way).
        layers: further layers, after Powertools' (e.g. the Lambda Web Adapter's).
    """

    def __init__(self, scope: Construct, id_: str, *, handler: str, description: str,
                 timeout: Duration, reserved_concurrency: int | None, key: kms.IKey,
                 log_retention: logs.RetentionDays, why_no_dlq: str, why_no_vpc: str,
                 environment: dict[str, str] | None = None, memory_mb: int = 512, powertools: bool = True,
                 wildcard_reason: str = _XRAY_REASON, why_no_reservation: str = _NO_RESERVATION,
                 code: str | None = None,
                 log_removal: RemovalPolicy = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
                 logging_format: lambda_.LoggingFormat | None = None,
                 layers: list[lambda_.ILayerVersion] | None = None,
                 network: FunctionNetwork | None = None) -> None:
        super().__init__(scope, id_)
        self.role = ManagedPolicyRole(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description
        )
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, encryption_key=key, removal_policy=log_removal,
        )
        layers, env = list(layers or []), dict(environment or {})
        if powertools:
            layers = [self._powertools_layer(), *layers]
            env = {**_powertools_environment(id_), **env}
        self.function = self._build_function(
            handler=handler, description=description, timeout=timeout, memory_mb=memory_mb,
            reserved_concurrency=reserved_concurrency, code=code, layers=layers,
            logging_format=logging_format, key=key, env=env,
        )
        self._grant_logs_and_environment(key, env)
        if network is not None:
            self._attach(network)
            wildcard_reason = f"{wildcard_reason} {_VPC_DESCRIBE_REASON}"
        self._acknowledge_findings(wildcard_reason, why_no_dlq)
        if network is None:
            self._acknowledge_no_vpc(why_no_vpc)
        if reserved_concurrency is None:
            self._acknowledge_no_reservation(why_no_reservation)

    def _powertools_layer(self) -> lambda_.ILayerVersion:
        """`Powertools`: AWS's public Powertools v3 layer for this runtime, arm64, in this region."""
        stack = Stack.of(self)
        return lambda_.LayerVersion.from_layer_version_arn(
            self,
            "Powertools",
            f"arn:{stack.partition}:lambda:{stack.region}:{POWERTOOLS_ACCOUNT}:layer:"
            f"AWSLambdaPowertoolsPythonV3-{PYTHON_TAG}-arm64:{POWERTOOLS_LAYER_VERSION}",
        )

    def _build_function(self, *, handler: str, description: str, timeout: Duration, memory_mb: int,
                        reserved_concurrency: int | None, code: str | None, layers: list[lambda_.ILayerVersion],
                        logging_format: lambda_.LoggingFormat | None, key: kms.IKey,
                        env: dict[str, str]) -> lambda_.Function:
        """`Function`: arm64, X-Ray active, logging to `Logs`; an environment, if any, encrypted with `key`."""
        return lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            code=_code(code),
            handler=handler,
            description=description,
            timeout=timeout,
            memory_size=memory_mb,
            reserved_concurrent_executions=reserved_concurrency,
            role=self.role,
            layers=layers or None,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            logging_format=logging_format,
            environment_encryption=key if env else None,
            environment=env or None,
        )

    def _grant_logs_and_environment(self, key: kms.IKey, env: dict[str, str]) -> None:
        self.log_group.grant_write(self.role)
        if env:
            # Environment variables are encrypted with this key.
            self.role.add_to_policy(iam.PolicyStatement(actions=["kms:Decrypt"], resources=[key.key_arn]))

    def _acknowledge_findings(self, wildcard_reason: str, why_no_dlq: str) -> None:
        """The findings every such function raises: the role's `Resource: *` statements, the
        pinned runtime, and no dead-letter queue."""
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

    def _acknowledge_no_vpc(self, why_no_vpc: str) -> None:
        acknowledge(self.function, why_no_vpc, "NIST.800.53.R5-LambdaInsideVPC", "HIPAA.Security-LambdaInsideVPC")
        skip_checkov(self.function, "CKV_AWS_117", why_no_vpc)
        acknowledge_control(self.function, "CT.LAMBDA.PR.3", why_no_vpc)

    def _acknowledge_no_reservation(self, why_no_reservation: str) -> None:
        acknowledge(self.function, why_no_reservation, "NIST.800.53.R5-LambdaConcurrency",
                    "HIPAA.Security-LambdaConcurrency")
        skip_checkov(self.function, "CKV_AWS_115", why_no_reservation)

    def _attach(self, network: FunctionNetwork) -> None:
        """VpcConfig on the function, and the role statements Lambda needs to attach it. The
        function depends on the role's managed policy, so they exist when Lambda checks them."""
        self.function.node.default_child.vpc_config = lambda_.CfnFunction.VpcConfigProperty(
            subnet_ids=list(network.subnet_ids), security_group_ids=list(network.security_group_ids),
        )
        stack = Stack.of(self)
        interfaces = stack.format_arn(service="ec2", resource="*", resource_name="*")
        # A subnet shared through AWS RAM keeps its owner's account in its ARN, and
        # CreateNetworkInterface is authorized against the subnet too (Service Authorization
        # Reference, Amazon EC2: CreateNetworkInterface's resource types include subnet;
        # VPC User Guide, "Share your VPC with other accounts": participants create ENIs in
        # the owner's subnets). The interfaces and groups stay this account's.
        shared = (stack.format_arn(service="ec2", account="*", resource="subnet", resource_name="*")
                  if network.shared_subnets else None)
        self.role.add_to_policy(iam.PolicyStatement(
            sid="ManageVpcInterfaces", actions=list(_VPC_WRITE_ACTIONS), resources=[interfaces, *filter(None, [shared])],
        ))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="DescribeVpcInterfaces", actions=list(_VPC_DESCRIBE_ACTIONS), resources=["*"],
        ))
        acknowledge(self.role.policy, _VPC_INTERFACES_REASON, finding_id(self, "AwsSolutions-IAM5", interfaces))
        if shared:
            acknowledge(self.role.policy, _SHARED_SUBNETS_REASON, finding_id(self, "AwsSolutions-IAM5", shared))


def _powertools_environment(function_id: str) -> dict[str, str]:
    """What Powertools' Logger, Tracer and Metrics read; the caller's environment overrides it."""
    return {
        "POWERTOOLS_SERVICE_NAME": function_id.lower(),
        "POWERTOOLS_METRICS_NAMESPACE": "FmPlatform",
        "LOG_LEVEL": "INFO",
    }


def _code(plain_asset: str | None) -> lambda_.Code:
    if plain_asset is None:
        return lambda_.Code.from_asset(
            str(LAMBDAS_DIR), exclude=["**/__pycache__", "**/*.pyc", *PLAIN_ASSETS, *PACKAGE_ASSETS, "**/tests"]
        )
    if plain_asset in PACKAGE_ASSETS:
        others = sorted(p.name for p in LAMBDAS_DIR.iterdir() if p.name != plain_asset)
        return lambda_.Code.from_asset(str(LAMBDAS_DIR), exclude=[*others, "**/__pycache__", "**/*.pyc"])
    if plain_asset not in PLAIN_ASSETS:
        raise ValueError(
            f"PythonFunction code {plain_asset!r}: not one of PLAIN_ASSETS {PLAIN_ASSETS} or PACKAGE_ASSETS {PACKAGE_ASSETS}"
        )
    return lambda_.Code.from_asset(str(LAMBDAS_DIR / plain_asset), exclude=["**/__pycache__", "**/*.pyc"])


# CloudFormation reports a custom resource handler's failure through the response URL.
_CLOUDFORMATION_NO_DLQ = (
    "CloudFormation is the only caller; a failure is reported to CloudFormation through the "
    "response URL and shows as the stack event, so a dead-letter queue would hold nothing to act on."
)


class CustomResourceHandler(PythonFunction):
    """A `PythonFunction` only CloudFormation invokes: the handler of the one custom
    resource it creates (`resource`, child `Resource`, of `resource_type` with
    `properties`).

    Plain boto3 code from `lambdas/studio_cleanup` (no Powertools), 256 MB, no
    reserved concurrency, JSON logs in a log group deleted with the stack; the
    caller says why it needs no VPC and no reservation, and what `Resource: *`
    statements its role has. Subclasses add their role statements.

    A subclass, not a child: the custom resource's construct is the function's too, so
    its `Function` keeps the path (and logical ID, hence name and ARN) it had before;
    CloudFormation refuses to change a custom resource's ServiceToken.
    """

    def __init__(self, scope: Construct, id_: str, *, handler: str, description: str, timeout: Duration,
                 key: kms.IKey, log_retention: logs.RetentionDays, resource_type: str, properties: dict,
                 why_no_vpc: str, why_no_reservation: str, wildcard_reason: str) -> None:
        super().__init__(
            scope, id_, handler=handler, description=description, timeout=timeout, key=key,
            log_retention=log_retention, why_no_dlq=_CLOUDFORMATION_NO_DLQ, why_no_vpc=why_no_vpc,
            reserved_concurrency=None,
            why_no_reservation=why_no_reservation, wildcard_reason=wildcard_reason, memory_mb=256,
            powertools=False, code="studio_cleanup", log_removal=RemovalPolicy.DESTROY,
            logging_format=lambda_.LoggingFormat.JSON,
        )
        self.resource = CustomResource(
            self, "Resource", service_token=self.function.function_arn, resource_type=resource_type,
            properties=properties,
        )
