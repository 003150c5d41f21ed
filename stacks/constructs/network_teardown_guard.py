"""The custom resource that makes the Network stack's delete say what blocks it."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.constructs.log_retention import log_retention
from stacks.constructs.network import Network
from stacks.constructs.python_function import CustomResourceHandler


class NetworkTeardownGuard(CustomResourceHandler):
    """Custom resource that makes the Network stack's delete say what blocks it.

    On Delete only (Create and Update do nothing) it looks in the VPC for what
    would make deleting the subnets and the VPC fail with DependencyViolation:
    EFS file systems with mount targets there (a Studio domain's retained home
    volume), network interfaces other than this stack's endpoints' and NAT
    gateways', and security groups other than `default` and this stack's own
    (SageMaker's NFS groups). If it finds any it FAILS the delete with a reason
    listing them and the manual steps, which CloudFormation shows in the stack
    events; the next `cdk destroy` checks again. Read-only.

    It depends on the VPC and its subnets (and, through its properties, on the
    stack's endpoints, NAT gateways and security groups), so CloudFormation
    deletes it first. Only for a network this app creates (network.mode create).

    Code: `lambdas/studio_cleanup/network_guard.py`.

    Attributes:
        function: the Lambda function.
        role: its role.
        resource: the `Custom::NetworkTeardownGuard` resource.
    """

    def __init__(self, scope: Construct, id_: str, *, network: Network, log_retention_days: int) -> None:
        if network.flow_log_group is None:
            raise ValueError("NetworkTeardownGuard: only for a VPC this app creates (network.mode create)")
        vpc = network.vpc
        endpoints = [
            c for c in network.node.find_all() if isinstance(c, ec2.CfnVPCEndpoint) and c.vpc_endpoint_type == "Interface"
        ]
        nat_gateways = [c for c in network.node.find_all() if isinstance(c, ec2.CfnNatGateway)]
        groups = [
            g
            for g in (network.endpoint_security_group, network.workload_security_group, network.function_security_group)
            if g is not None
        ]
        subnets = [*vpc.isolated_subnets, *vpc.private_subnets, *vpc.public_subnets]
        properties: dict = {
            "VpcId": vpc.vpc_id,
            "SubnetIds": [s.subnet_id for s in subnets],
            "SecurityGroupIds": [g.security_group_id for g in groups],
        }
        if endpoints:
            properties["VpcEndpointIds"] = [e.ref for e in endpoints]
        if nat_gateways:
            properties["NatGatewayIds"] = [n.ref for n in nat_gateways]
        super().__init__(
            scope,
            id_,
            handler="network_guard.on_event",
            description="On stack delete: fails with what still blocks deleting the VPC, and how to remove it",
            # Waits this long for transient interfaces (e.g. of a just-deleted endpoint) to be released.
            timeout=Duration.minutes(10),
            # The flow-log key, whose policy already admits CloudWatch Logs of this account.
            key=network.node.find_child("LogKey"),
            log_retention=log_retention(log_retention_days),
            resource_type="Custom::NetworkTeardownGuard",
            properties=properties,
            why_no_vpc="Runs once per Network stack deletion and calls only read-only EC2/EFS APIs and "
            "CloudFormation's S3 response URL; inside the VPC it would hold a network interface that itself "
            "blocks the VPC's deletion it checks for.",
            why_no_reservation="Invoked only by CloudFormation, once per Network stack deletion; reserving "
            "concurrency for it would take from the account's unreserved pool (reservable: unreserved minus "
            "100; new accounts often have 10 or 50) for no benefit.",
            wildcard_reason="The teardown check only reads: ec2:Describe* for interfaces, security groups, "
            "endpoints and NAT gateways and elasticfilesystem:Describe* for file systems and mount targets "
            "support no resource-level permissions for listing (ids unknown until the stack is deleted), nor "
            "do the X-Ray PutTraceSegments/PutTelemetryRecords actions.",
        )
        self.role.add_to_policy(iam.PolicyStatement(
            sid="FindWhatBlocksTheVpc",
            actions=[
                "ec2:DescribeNatGateways",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcEndpoints",
                "elasticfilesystem:DescribeFileSystems",
                "elasticfilesystem:DescribeMountTargets",
            ],
            resources=["*"],
        ))
        # Deleted before the subnets and the VPC: explicit, not only implied by the Refs above.
        self.resource.node.add_dependency(vpc.node.default_child, *(s.node.default_child for s in subnets))
