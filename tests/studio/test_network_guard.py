"""The Network stack's teardown guard: real boto3 clients answered by botocore's
Stubber with what EC2 and EFS return for a VPC that Studio has used.

What it guards: a VPC (and its subnets) cannot be deleted while network
interfaces, EFS mount targets or non-default security groups remain in it
(EC2 API reference, DeleteVpc/DeleteSubnet: DependencyViolation); a deleted Studio
domain leaves exactly those behind by default (SageMaker API reference,
DeleteDomain RetentionPolicy; cloudformation-coverage-roadmap #1085). The guard must
fail the Network stack's delete with a reason naming them and the fix, never let
it fail silently half-way.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from botocore.stub import Stubber

from studio_cleanup import network_guard as guard
from tests.studio.fakes import Clock, stubbed
from tests.synth import REPO

VPC = "vpc-0123456789abcdef0"
STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/fm-studio-network/1"
OTHER_STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/other/2"
DOMAIN = "d-abc123"
ENDPOINT_SG, WORKLOAD_SG = "sg-000000000000000e1", "sg-000000000000000e2"
SUBNETS = {1: "subnet-0000000000000000a", 2: "subnet-0000000000000000b"}
SUBNET_ELSEWHERE = "subnet-0000000000000000c"
FS_HOME, FS_OTHER, FS_UNMOUNTED = "fs-0000000000000000a", "fs-0000000000000000b", "fs-0000000000000000c"
FSMT = {1: "fsmt-0000000000000000a", 2: "fsmt-0000000000000000b"}
FSMT_OTHER = "fsmt-0000000000000000c"
PROPS = {
    "ServiceToken": "arn",
    "VpcId": VPC,
    "SubnetIds": [SUBNETS[1], SUBNETS[2]],
    "SecurityGroupIds": [ENDPOINT_SG, WORKLOAD_SG],
    "VpcEndpointIds": ["vpce-1", "vpce-2"],
}


@pytest.fixture
def aws():
    yield from stubbed("ec2", "efs")


def event(request_type: str = "Delete", **props) -> dict:
    return {
        "RequestType": request_type,
        "ResponseURL": "https://example.invalid/response",
        "StackId": STACK,
        "RequestId": "r-1",
        "LogicalResourceId": "TeardownGuard",
        "ResourceProperties": {**PROPS, **props},
        **({"PhysicalResourceId": f"network-teardown-guard-{VPC}"} if request_type != "Create" else {}),
    }


def eni(eni_id: str, kind: str = "interface", status: str = "in-use", description: str = "") -> dict:
    return {
        "NetworkInterfaceId": eni_id,
        "InterfaceType": kind,
        "Status": status,
        "Description": description,
        "VpcId": VPC,
        "SubnetId": SUBNETS[1],
    }


def group(group_id: str, name: str, tags: dict | None = None) -> dict:
    return {
        "GroupId": group_id,
        "GroupName": name,
        "VpcId": VPC,
        "Description": name,
        "OwnerId": "123456789012",
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    }


def vpc_filter() -> dict:
    return {"Filters": [{"Name": "vpc-id", "Values": [VPC]}]}


def file_systems(efs: Stubber, *, studio_home: bool) -> None:
    """Two file systems elsewhere (one in another VPC, one without mount targets), and
    optionally the Studio home volume with a mount target in each of our subnets."""
    systems = [
        {"FileSystemId": FS_OTHER, "NumberOfMountTargets": 1, "Tags": []},
        {"FileSystemId": FS_UNMOUNTED, "NumberOfMountTargets": 0, "Tags": []},
    ]
    if studio_home:
        systems.append(
            {
                "FileSystemId": FS_HOME,
                "NumberOfMountTargets": 2,
                "Tags": [
                    {
                        "Key": "ManagedByAmazonSageMakerResource",
                        "Value": f"arn:aws:sagemaker:us-east-1:123456789012:domain/{DOMAIN}",
                    }
                ],
            }
        )
    # paginated: the first page carries a marker
    full = [{**s, "OwnerId": "123456789012", "CreationToken": s["FileSystemId"], "CreationTime": "2026-01-01",
             "LifeCycleState": "available", "PerformanceMode": "generalPurpose", "SizeInBytes": {"Value": 0}}
            for s in systems]
    efs.add_response("describe_file_systems", {"FileSystems": full[:1], "NextMarker": "m1"}, {})
    efs.add_response("describe_file_systems", {"FileSystems": full[1:]}, {"Marker": "m1"})
    efs.add_response(
        "describe_mount_targets",
        {"MountTargets": [{"MountTargetId": FSMT_OTHER, "FileSystemId": FS_OTHER, "SubnetId": SUBNET_ELSEWHERE,
                           "LifeCycleState": "available", "VpcId": "vpc-elsewhere", "NetworkInterfaceId": "eni-x"}]},
        {"FileSystemId": FS_OTHER},
    )
    if studio_home:
        efs.add_response(
            "describe_mount_targets",
            {"MountTargets": [
                {"MountTargetId": FSMT[i], "FileSystemId": FS_HOME, "SubnetId": SUBNETS[i],
                 "LifeCycleState": "available", "VpcId": VPC, "NetworkInterfaceId": f"eni-efs-{i}"}
                for i in (1, 2)
            ]},
            {"FileSystemId": FS_HOME},
        )


def owned_endpoints(ec2: Stubber) -> None:
    ec2.add_response(
        "describe_vpc_endpoints",
        {"VpcEndpoints": [{"VpcEndpointId": f"vpce-{i}", "NetworkInterfaceIds": [f"eni-vpce-{i}a", f"eni-vpce-{i}b"]}
                          for i in (1, 2)]},
        {"Filters": [{"Name": "vpc-endpoint-id", "Values": ["vpce-1", "vpce-2"]}]},
    )


OWNED_ENIS = [eni(f"eni-vpce-{i}{x}", "vpc_endpoint") for i in (1, 2) for x in "ab"]
OWNED_GROUPS = [
    group("sg-default", "default"),
    group(ENDPOINT_SG, "NetworkEndpointSecurityGroup"),
    group(WORKLOAD_SG, "NetworkWorkloadSecurityGroup"),
    # one this stack owns but did not pass: recognised by CloudFormation's own tag
    group("sg-tagged", "NetworkOther", {"aws:cloudformation:stack-id": STACK}),
]


def network(ec2: Stubber, enis: list[dict], groups: list[dict]) -> None:
    ec2.add_response("describe_network_interfaces", {"NetworkInterfaces": enis}, vpc_filter())
    ec2.add_response("describe_security_groups", {"SecurityGroups": groups}, vpc_filter())


def run(clients, clock, ev=None, remaining=600):
    responses = []
    guard.handle(
        ev or event(), remaining, clients["ec2"], clients["efs"],
        respond=lambda *a: responses.append(a), clock=clock, sleep=clock.sleep,
    )
    [(_, status, reason, physical_id)] = responses
    assert physical_id == f"network-teardown-guard-{VPC}"
    return status, reason


def test_a_vpc_holding_only_what_the_stack_owns_may_be_deleted(aws):
    clients, stubs = aws
    file_systems(stubs["efs"], studio_home=False)
    owned_endpoints(stubs["ec2"])
    network(stubs["ec2"], OWNED_ENIS, OWNED_GROUPS)
    clock = Clock()
    assert run(clients, clock) == ("SUCCESS", "OK")
    assert clock.sleeps == []


def test_studios_retained_home_volume_and_nfs_groups_fail_the_delete_at_once_with_the_fix(aws):
    clients, stubs = aws
    file_systems(stubs["efs"], studio_home=True)
    owned_endpoints(stubs["ec2"])
    enis = OWNED_ENIS + [eni("eni-efs-1", "efs"), eni("eni-efs-2", "efs")]
    groups = OWNED_GROUPS + [
        group("sg-in", f"security-group-for-inbound-nfs-{DOMAIN}"),
        group("sg-out", f"security-group-for-outbound-nfs-{DOMAIN}", {"aws:cloudformation:stack-id": OTHER_STACK}),
    ]
    network(stubs["ec2"], enis, groups)
    clock = Clock()
    status, reason = run(clients, clock)
    assert status == "FAILED" and clock.sleeps == []  # nothing here goes away by waiting
    assert reason.startswith(
        f"VPC {VPC} cannot be deleted yet; found: SageMaker Studio home volume of domain {DOMAIN} {FS_HOME} "
        f"with mount targets {FSMT[1]}, {FSMT[2]}; "
        f"security group sg-in (security-group-for-inbound-nfs-{DOMAIN}); "
        f"security group sg-out (security-group-for-outbound-nfs-{DOMAIN}). To fix: "
    )
    # the mount targets' interfaces are reported with their file system, not again
    assert "eni-efs" not in reason and "eni-vpce" not in reason and "sg-default" not in reason
    for step in (
        "aws sagemaker delete-domain --domain-id <id> --retention-policy HomeEfsFileSystem=Delete",
        "aws efs delete-mount-target --mount-target-id <fsmt-id>",
        "aws efs delete-file-system --file-system-id <fs-id>",
        "aws ec2 delete-security-group --group-id <sg-id>",
        "then run cdk destroy again",
        "studio.delete_home_efs_on_destroy: true",
    ):
        assert step in reason, step
    assert len(reason) < 3000  # CloudFormation's response body is limited to 4 KiB


def test_interfaces_of_a_just_deleted_service_are_waited_for_then_the_delete_goes_on(aws):
    clients, stubs = aws
    endpoint_eni = eni("eni-sm", "interface", "in-use", "SageMaker endpoint fm-falcon")
    for enis in (OWNED_ENIS + [endpoint_eni], OWNED_ENIS):
        file_systems(stubs["efs"], studio_home=False)
        owned_endpoints(stubs["ec2"])
        network(stubs["ec2"], enis, OWNED_GROUPS)
    clock = Clock()
    assert run(clients, clock) == ("SUCCESS", "OK")
    assert clock.sleeps == [guard.POLL_SECONDS]


def test_interfaces_that_stay_fail_the_delete_when_time_runs_out(aws):
    clients, stubs = aws
    stale = eni("eni-stale", "interface", "available", "left behind by a deleted Lambda function")
    # 60 s budget - 30 s margin: check at 0 and 15, then the next wait would pass the deadline
    for _ in range(2):
        file_systems(stubs["efs"], studio_home=False)
        owned_endpoints(stubs["ec2"])
        network(stubs["ec2"], OWNED_ENIS + [stale], OWNED_GROUPS)
    clock = Clock()
    status, reason = run(clients, clock, remaining=60)
    assert status == "FAILED"
    assert "network interface eni-stale (available: left behind by a deleted Lambda function)" in reason
    assert "aws ec2 delete-network-interface --network-interface-id <eni-id>" in reason
    assert clock.sleeps == [guard.POLL_SECONDS]


def test_nat_gateway_interfaces_are_the_stacks_own(aws):
    clients, stubs = aws
    file_systems(stubs["efs"], studio_home=False)
    owned_endpoints(stubs["ec2"])
    stubs["ec2"].add_response(
        "describe_nat_gateways",
        {"NatGateways": [{"NatGatewayId": "nat-1", "NatGatewayAddresses": [{"NetworkInterfaceId": "eni-nat"}]}]},
        {"Filter": [{"Name": "nat-gateway-id", "Values": ["nat-1"]}]},
    )
    network(stubs["ec2"], OWNED_ENIS + [eni("eni-nat", "nat_gateway")], OWNED_GROUPS)
    assert run(clients, Clock(), event(NatGatewayIds=["nat-1"])) == ("SUCCESS", "OK")


def test_a_long_list_is_cut_so_the_steps_still_fit(aws):
    clients, stubs = aws
    file_systems(stubs["efs"], studio_home=False)
    owned_endpoints(stubs["ec2"])
    many = [group(f"sg-{i:02}", f"left-behind-{i}") for i in range(40)]
    network(stubs["ec2"], OWNED_ENIS, OWNED_GROUPS + many)
    status, reason = run(clients, Clock())
    assert status == "FAILED" and "and 32 more (listed in the function's log)" in reason
    assert "delete-security-group" in reason and len(reason) < 3000


def test_an_api_error_fails_the_delete_with_its_cause(aws):
    clients, stubs = aws
    stubs["efs"].add_client_error("describe_file_systems", "AccessDeniedException", "not allowed", 403)
    status, reason = run(clients, Clock())
    assert status == "FAILED"
    assert reason.startswith(f"teardown check of VPC {VPC} failed: ClientError: ") and "AccessDenied" in reason


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_check_nothing(aws, request_type):
    clients, _ = aws
    assert run(clients, Clock(), event(request_type)) == ("SUCCESS", "OK")  # no AWS call (Stubber)


def test_the_handler_imports_as_the_lambda_runtime_loads_it():
    # The runtime puts the asset root on sys.path and imports `network_guard` top-level.
    code = "import network_guard; print(network_guard.pages.__module__, callable(network_guard.on_event))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO / "lambdas" / "studio_cleanup", capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["aws_calls", "True"]
