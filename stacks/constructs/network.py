"""The private network that in-VPC model endpoints and the Studio domain run in."""

from __future__ import annotations

from aws_cdk import (
    CfnDynamicReference,
    CfnDynamicReferenceService,
    RemovalPolicy,
    Stack,
    Token,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from stacks.compliance.control_tower import acknowledge_control
from stacks.compliance.nag import acknowledge
from stacks.compliance.scanner import skip_checkov
from stacks.config import NetworkConfig
from stacks.constructs.encryption import (
    allow_log_group_encryption,
    limit_grants_to_aws_services,
)
from stacks.constructs.log_retention import log_retention
from stacks.constructs.model_hosting import ModelNetwork
from stacks.constructs.python_function import FunctionNetwork
from stacks.constructs.roles import ManagedPolicyRole

PRIVATE = "Private"
PUBLIC = "Public"


# What VpcOnly Studio and in-VPC endpoints reach without a NAT gateway (issue #3).
INTERFACE_ENDPOINTS = {
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    "SageMakerRuntime": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
    "SageMakerStudio": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_STUDIO,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
}
# What the app's functions call besides the above, added with network.functions_in_vpc
# (created mode): SQS (front door and worker enqueue jobs), SSM (the front door and the
# streaming function read a sleeping model's wake recipe), CloudWatch monitoring (the idle
# checker's GetMetricData) and X-Ray (active tracing: the Lambda-run daemon uploads the
# Powertools subsegments, and AWS documents no path for that upload that bypasses the
# function's network interfaces; X-Ray supports interface endpoints, X-Ray Developer Guide,
# "Using X-Ray with VPC endpoints"). SageMaker runtime and API, KMS, STS and CloudWatch Logs
# are above already; DynamoDB and S3 go through gateway endpoints. Function logs need no
# endpoint: Lambda delivers them, and Powertools metrics are log lines (EMF).
FUNCTION_INTERFACE_ENDPOINTS = {
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "XRay": ec2.InterfaceVpcEndpointAwsService.XRAY,
}


class Network(Construct):
    """A new two-AZ VPC (private subnets, flow logs, VPC endpoints) or an
    existing VPC imported by id, plus the security group model containers use.

    Created mode: subnets are isolated unless `nat_gateways > 0`, which adds
    public subnets with NAT gateways and makes the private ones egress-capable.
    Imported mode: nothing is created in the VPC except the security groups; the
    VPC's owner provides routing, endpoints and flow logs.

    With `functions_in_vpc`, also the functions' security group, in created mode the
    endpoints they call (`FUNCTION_INTERFACE_ENDPOINTS`, a DynamoDB gateway endpoint), and
    SSM parameters under `parameter_prefix` holding what other stacks cannot read as
    literals (see `function_network`).

    Attributes:
        vpc: the VPC.
        subnet_ids: the private subnets workloads run in.
        workload_security_group: for model containers (egress HTTPS only).
        function_security_group: for the app's Lambda functions (functions_in_vpc only).
        endpoint_security_group: for the interface endpoints (created mode only).
        flow_log_group: the flow-log destination (created mode only).
    """

    def __init__(self, scope: Construct, id_: str, *, config: NetworkConfig, log_retention_days: int,
                 parameter_prefix: str | None = None) -> None:
        super().__init__(scope, id_)
        if config.mode == "none":
            raise ValueError("Network needs network.mode 'create' or 'import', got 'none'")
        self.endpoint_security_group: ec2.SecurityGroup | None = None
        self.flow_log_group: logs.LogGroup | None = None
        if config.mode == "create":
            self.vpc: ec2.IVpc = self._build_vpc(config)
            self.subnet_ids: list[str] = self.vpc.select_subnets(subnet_group_name=PRIVATE).subnet_ids
            self.flow_log_group = self._build_flow_logs(log_retention_days)
            self.endpoint_security_group = self._build_endpoints(config.cidr)
        else:
            self.vpc = ec2.Vpc.from_vpc_attributes(
                self,
                "Vpc",
                vpc_id=config.vpc_id,
                # Tokens, not a lookup: synth stays offline and nothing here reads them.
                availability_zones=Stack.of(self).availability_zones,
            )
            self.subnet_ids = list(config.subnet_ids)
        self.workload_security_group = self._build_workload_security_group()
        self.function_security_group: ec2.SecurityGroup | None = None
        self._function_network: FunctionNetwork | None = None
        if config.functions_in_vpc:
            if not parameter_prefix:
                raise ValueError("Network: functions_in_vpc needs a parameter_prefix for the SSM parameters")
            self.function_security_group = self._build_function_security_group()
            if config.mode == "create":
                self._build_function_endpoints()
            self._function_network = self._publish_function_network(parameter_prefix, config.mode == "create")

    def add_function_endpoint(self, name: str, service: ec2.IInterfaceVpcEndpointService) -> None:
        """One more interface endpoint for the functions, where `FUNCTION_INTERFACE_ENDPOINTS`
        are (a created VPC with network.functions_in_vpc), for a service only an optional
        function calls (e.g. SNS for the Studio reaper); nothing otherwise (an imported VPC's
        owner provides its endpoints)."""
        if self._function_network is None or self.endpoint_security_group is None:
            return
        self.vpc.add_interface_endpoint(
            name, service=service, subnets=ec2.SubnetSelection(subnet_group_name=PRIVATE),
            security_groups=[self.endpoint_security_group], private_dns_enabled=True, open=False,
        )

    def model_network(self) -> ModelNetwork:
        """Where `JumpStartEndpoint` model containers attach."""
        return ModelNetwork(
            subnet_ids=self.subnet_ids,
            security_group_ids=[self.workload_security_group.security_group_id],
        )

    def function_network(self) -> FunctionNetwork | None:
        """Where the app's functions attach (None unless network.functions_in_vpc).

        The subnet ids of a created VPC and the security group id reach the functions' stacks
        as `{{resolve:ssm:...}}` dynamic references to parameters this construct writes, not
        as cross-stack references: a `Fn::GetStackOutput` in `VpcConfig` fails AWS Control
        Tower's CT.LAMBDA.PR.3 Guard rule, which accepts only strings or same-template
        Ref/GetAtt (see `FunctionNetwork`). The consuming stacks depend on this one
        (`stacks.app_builder`). An imported VPC's subnet ids are literals from the config.
        CloudFormation re-reads a parameter only when the consuming resource is updated
        ("Get a plaintext value from Systems Manager Parameter Store"); these values change
        only if the VPC or the group is replaced, which the functions' network interfaces
        in them block anyway.
        """
        return self._function_network

    # -- builders ---------------------------------------------------------------

    def _build_vpc(self, config: NetworkConfig) -> ec2.Vpc:
        prefix = int(config.cidr.split("/")[1])
        subnets = [
            ec2.SubnetConfiguration(
                name=PRIVATE,
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                if config.nat_gateways
                else ec2.SubnetType.PRIVATE_ISOLATED,
                cidr_mask=prefix + 2,
            )
        ]
        if config.nat_gateways:
            subnets.append(
                ec2.SubnetConfiguration(
                    name=PUBLIC,
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=prefix + 4,
                    # Only NAT gateways live here; nothing should get a public IP by accident.
                    map_public_ip_on_launch=False,
                )
            )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(config.cidr),
            max_azs=2,
            nat_gateways=config.nat_gateways,
            subnet_configuration=subnets,
            restrict_default_security_group=True,
        )
        self._skip_restrict_default_sg_handler()
        if config.nat_gateways:
            for subnet in vpc.public_subnets:
                route = subnet.node.find_child("DefaultRoute")
                acknowledge(
                    route,
                    "The public subnets hold only the NAT gateways (network.nat_gateways > 0), which "
                    "need a default route to the internet gateway; workloads run in the private subnets.",
                    "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
                    "HIPAA.Security-VPCNoUnrestrictedRouteToIGW",
                )
        return vpc

    def _skip_restrict_default_sg_handler(self) -> None:
        """checkov skips on the stack-wide handler CDK adds for restrict_default_security_group."""
        provider = Stack.of(self).node.find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        handler = provider.node.find_child("Handler")
        why = (
            "CDK's own custom-resource handler that removes the default security group's rules; "
            "CloudFormation invokes it only while this stack deploys"
        )
        for check, detail in (
            ("CKV_AWS_115", "one invocation per VPC at deploy time needs no concurrency limit"),
            ("CKV_AWS_116", "a failure fails the deployment itself, so a dead-letter queue would hold nothing to act on"),
            ("CKV_AWS_117", "it calls only the EC2 API, and the VPC it runs for has no route out by default"),
        ):
            skip_checkov(handler, check, f"{why}: {detail}.")
        acknowledge_control(
            provider, "CT.LAMBDA.PR.3",
            f"{why}: it calls only the EC2 API once per deploy, and CDK offers no VPC placement for it.",
        )

    def _build_flow_logs(self, retention_days: int) -> logs.LogGroup:
        key = kms.Key(
            self,
            "LogKey",
            description="VPC flow logs",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        allow_log_group_encryption(key)
        limit_grants_to_aws_services(key)
        group = logs.LogGroup(
            self,
            "FlowLogGroup",
            encryption_key=key,
            retention=log_retention(retention_days),
            # Flow logs are audit evidence; they outlive the VPC.
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        role = ManagedPolicyRole(
            self,
            "FlowLogRole",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description="Delivers VPC flow logs to CloudWatch Logs",
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(group, role),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        return group

    def _build_endpoints(self, cidr: str) -> ec2.SecurityGroup:
        sg = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="VPC interface endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        # The configured literal, not the VPC's CidrBlock attribute: cdk-nag cannot
        # evaluate security-group rules that hold intrinsics.
        sg.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS from the VPC")
        private = ec2.SubnetSelection(subnet_group_name=PRIVATE)
        for name, service in INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                name,
                service=service,
                subnets=private,
                security_groups=[sg],
                private_dns_enabled=True,
                # `open` would add its own 443-from-VPC rule per endpoint; the one above suffices.
                open=False,
            )
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[private])
        return sg

    def _build_function_endpoints(self) -> None:
        private = ec2.SubnetSelection(subnet_group_name=PRIVATE)
        for name, service in FUNCTION_INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                name,
                service=service,
                subnets=private,
                security_groups=[self.endpoint_security_group],
                private_dns_enabled=True,
                open=False,
            )
        # Job and feedback tables (front door, worker, dead-letter handler); gateway endpoints are free.
        self.vpc.add_gateway_endpoint("DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets=[private])

    def _build_function_security_group(self) -> ec2.SecurityGroup:
        return self._https_out_group("FunctionSecurityGroup", "Lambda functions: no inbound, HTTPS out",
                                     "HTTPS to VPC endpoints, S3 and DynamoDB")

    def _publish_function_network(self, prefix: str, created: bool) -> FunctionNetwork:
        def parameter(id_: str, name: str, value: str, what: str) -> str:
            ssm.StringParameter(self, id_, parameter_name=f"{prefix}/{name}", string_value=value,
                                description=f"{what}, read by the functions' stacks at deploy time")
            return Token.as_string(CfnDynamicReference(CfnDynamicReferenceService.SSM, f"{prefix}/{name}"))

        group = parameter("FunctionSecurityGroupId", "function-security-group",
                          self.function_security_group.security_group_id, "Security group of the Lambda functions")
        if not created:
            return FunctionNetwork(subnet_ids=tuple(self.subnet_ids), security_group_ids=(group,), shared_subnets=True)
        subnets = tuple(
            parameter(f"FunctionSubnet{i}Id", f"function-subnet-{i}", subnet_id,
                      f"Private subnet {i} of the Lambda functions")
            for i, subnet_id in enumerate(self.subnet_ids, start=1)
        )
        return FunctionNetwork(subnet_ids=subnets, security_group_ids=(group,))

    def _build_workload_security_group(self) -> ec2.SecurityGroup:
        return self._https_out_group("WorkloadSecurityGroup", "SageMaker model containers: no inbound, HTTPS out",
                                     "HTTPS to VPC endpoints and S3")

    def _https_out_group(self, id_: str, description: str, egress: str) -> ec2.SecurityGroup:
        """No inbound; HTTPS out to anywhere. The S3 and DynamoDB gateway endpoints' prefix
        lists cannot be referenced without a synth-time lookup; private routing bounds where
        443 reaches (no NAT unless `nat_gateways > 0`)."""
        sg = ec2.SecurityGroup(self, id_, vpc=self.vpc, description=description, allow_all_outbound=False)
        sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), egress)
        return sg
