"""The Studio cleanup with `studio.delete_home_efs_on_destroy`: real boto3 clients
with botocore's Stubber answering as AWS does (canned responses and errors).

What it guards: SageMaker retains a deleted domain's home EFS volume, its mount
targets and the NFS security groups it created unless DeleteDomain is called with
`RetentionPolicy.HomeEfsFileSystem=Delete` (SageMaker API reference, DeleteDomain /
RetentionPolicy), and CloudFormation's AWS::SageMaker::Domain cannot say that
(cloudformation-coverage-roadmap #1085); the VPC then cannot be deleted. A security
group still used by a network interface or referenced by another group fails
DeleteSecurityGroup with DependencyViolation (EC2 API reference, DeleteSecurityGroup).
"""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from studio_cleanup import domain_teardown, index, waiting
from tests.studio.fakes import Clock, stubbed

DOMAIN = "d-abc123"
VPC = "vpc-0123456789abcdef0"
STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/fm-studio-studio/1"
HOME = "fs-0123456789abcdef0"
INBOUND, OUTBOUND = "sg-0000000000000000a", "sg-0000000000000000b"
NFS_NAMES = [f"security-group-for-inbound-nfs-{DOMAIN}", f"security-group-for-outbound-nfs-{DOMAIN}"]


@pytest.fixture
def aws():
    """Stubbed SageMaker, EC2 and CloudFormation clients; every queued answer must be used."""
    yield from stubbed("sagemaker", "ec2", "cloudformation")


def profile(name: str, status: str = "InService") -> dict:
    return {"DomainId": DOMAIN, "UserProfileName": name, "Status": status}


def domain(status: str) -> dict:
    return {
        "DomainId": DOMAIN,
        "DomainArn": f"arn:aws:sagemaker:us-east-1:123456789012:domain/{DOMAIN}",
        "Status": status,
        "HomeEfsFileSystemId": HOME,
        "VpcId": VPC,
        **({"FailureReason": "EFS file system is in use"} if status == "Delete_Failed" else {}),
    }


def nfs_groups() -> list[dict]:
    """SageMaker's pair: inbound admits NFS from outbound, outbound sends NFS to inbound."""
    nfs = {"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049}
    return [
        {
            "GroupId": INBOUND,
            "GroupName": NFS_NAMES[0],
            "VpcId": VPC,
            "IpPermissions": [{**nfs, "UserIdGroupPairs": [{"GroupId": OUTBOUND, "UserId": "123456789012"}]}],
            "IpPermissionsEgress": [],
        },
        {
            "GroupId": OUTBOUND,
            "GroupName": NFS_NAMES[1],
            "VpcId": VPC,
            "IpPermissions": [],
            "IpPermissionsEgress": [
                {**nfs, "UserIdGroupPairs": [{"GroupId": INBOUND, "UserId": "123456789012"}]},
                {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            ],
        },
    ]


def nfs_filter() -> list[dict]:
    return [{"Name": "vpc-id", "Values": [VPC]}, {"Name": "group-name", "Values": NFS_NAMES}]


def event(request_type: str = "Delete", flag="true") -> dict:
    return {
        "RequestType": request_type,
        "ResponseURL": "https://example.invalid/response",
        "StackId": STACK,
        "RequestId": "r-1",
        "LogicalResourceId": "StudioCleanup",
        # CloudFormation passes every property as a string
        "ResourceProperties": {"ServiceToken": "arn", "DomainId": DOMAIN, "DeleteHomeEfsOnDestroy": flag, "VpcId": VPC},
        "PhysicalResourceId": f"studio-cleanup-{DOMAIN}",
    }


def empty_apps_and_spaces(sm: Stubber) -> None:
    """delete_apps_and_spaces on an empty domain: list, re-check, for apps then spaces."""
    for _ in range(2):
        sm.add_response("list_apps", {"Apps": []}, {"DomainIdEquals": DOMAIN, "MaxResults": 100})
    for _ in range(2):
        sm.add_response("list_spaces", {"Spaces": []}, {"DomainIdEquals": DOMAIN, "MaxResults": 100})


def stack_status(cfn: Stubber, status: str) -> None:
    cfn.add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": "fm-studio-studio", "StackId": STACK, "CreationTime": "2026-01-01", "StackStatus": status}]},
        {"StackName": STACK},
    )


def run(clients, clock, ev=None, remaining=900):
    responses = []
    index.handle(
        ev or event(),
        remaining,
        clients["sagemaker"],
        respond=lambda *a: responses.append(a),
        clock=clock,
        sleep=clock.sleep,
        ec2=clients["ec2"],
        cfn=clients["cloudformation"],
    )
    [(_, status, reason, physical_id)] = responses
    assert physical_id == f"studio-cleanup-{DOMAIN}"
    return status, reason


def test_delete_removes_profiles_then_the_domain_with_its_home_then_the_nfs_groups(aws):
    clients, stubs = aws
    sm, ec2, cfn = stubs["sagemaker"], stubs["ec2"], stubs["cloudformation"]
    empty_apps_and_spaces(sm)
    stack_status(cfn, "DELETE_IN_PROGRESS")
    # 1. profiles: delete both, one lingers as Deleting for one poll
    listing = {"DomainIdEquals": DOMAIN, "MaxResults": 100}
    sm.add_response("list_user_profiles", {"UserProfiles": [profile("ana"), profile("bo")]}, listing)
    sm.add_response("delete_user_profile", {}, {"DomainId": DOMAIN, "UserProfileName": "ana"})
    sm.add_response("delete_user_profile", {}, {"DomainId": DOMAIN, "UserProfileName": "bo"})
    sm.add_response("list_user_profiles", {"UserProfiles": [profile("bo", "Deleting")]}, listing)
    sm.add_response("list_user_profiles", {"UserProfiles": []}, listing)
    # 2. the domain, with RetentionPolicy Delete, until DescribeDomain says ResourceNotFound
    sm.add_response("describe_domain", domain("InService"), {"DomainId": DOMAIN})
    sm.add_response(
        "delete_domain", {}, {"DomainId": DOMAIN, "RetentionPolicy": {"HomeEfsFileSystem": "Delete"}}
    )
    sm.add_response("describe_domain", domain("Deleting"), {"DomainId": DOMAIN})
    sm.add_client_error("describe_domain", "ResourceNotFound", "Domain not found", 400, expected_params={"DomainId": DOMAIN})
    # 3. the NFS groups: cross-references revoked first, then deleted; the inbound
    #    one is still used by a mount target's interface once (DependencyViolation)
    ec2.add_response("describe_security_groups", {"SecurityGroups": nfs_groups()}, {"Filters": nfs_filter()})
    nfs = {"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049}
    ec2.add_response(
        "revoke_security_group_ingress",
        {"Return": True},
        {"GroupId": INBOUND, "IpPermissions": [{**nfs, "UserIdGroupPairs": [{"GroupId": OUTBOUND}]}]},
    )
    ec2.add_response(
        "revoke_security_group_egress",
        {"Return": True},
        # only the reference to the other group; the CIDR rule does not block anything
        {"GroupId": OUTBOUND, "IpPermissions": [{**nfs, "UserIdGroupPairs": [{"GroupId": INBOUND}]}]},
    )
    ec2.add_client_error(
        "delete_security_group", "DependencyViolation", "resource sg has a dependent object", 400,
        expected_params={"GroupId": INBOUND},
    )
    ec2.add_response("delete_security_group", {}, {"GroupId": OUTBOUND})
    ec2.add_response("delete_security_group", {}, {"GroupId": INBOUND})

    clock = Clock()
    status, reason = run(clients, clock)

    assert (status, reason) == ("SUCCESS", "OK")
    # one poll for the profile, one for the domain, one backoff for the security group
    assert clock.sleeps == [waiting.POLL_SECONDS, waiting.POLL_SECONDS, domain_teardown.BACKOFF_FIRST_SECONDS]


def test_a_domain_already_gone_with_groups_already_gone_is_a_success(aws):
    # e.g. the second `cdk destroy` after a timeout, or CloudFormation retrying
    clients, stubs = aws
    sm, ec2, cfn = stubs["sagemaker"], stubs["ec2"], stubs["cloudformation"]
    sm.add_client_error("list_apps", "ResourceNotFound", "Domain not found", 400)
    stack_status(cfn, "DELETE_IN_PROGRESS")
    sm.add_client_error("list_user_profiles", "ResourceNotFound", "Domain not found", 400)
    sm.add_client_error("describe_domain", "ResourceNotFound", "Domain not found", 400)
    ec2.add_response("describe_security_groups", {"SecurityGroups": []}, {"Filters": nfs_filter()})
    assert run(clients, Clock()) == ("SUCCESS", "OK")


def test_groups_deleted_meanwhile_and_rules_already_revoked_are_tolerated(aws):
    clients, stubs = aws
    sm, ec2, cfn = stubs["sagemaker"], stubs["ec2"], stubs["cloudformation"]
    empty_apps_and_spaces(sm)
    stack_status(cfn, "DELETE_IN_PROGRESS")
    sm.add_response("list_user_profiles", {"UserProfiles": []})
    sm.add_response("list_user_profiles", {"UserProfiles": []})
    sm.add_response("describe_domain", domain("Deleting"))  # already deleting: not deleted again
    sm.add_client_error("describe_domain", "ResourceNotFound", "Domain not found", 400)
    ec2.add_response("describe_security_groups", {"SecurityGroups": nfs_groups()})
    ec2.add_client_error("revoke_security_group_ingress", "InvalidPermission.NotFound", "rule not found", 400)
    ec2.add_client_error("revoke_security_group_egress", "InvalidGroup.NotFound", "group not found", 400)
    ec2.add_client_error("delete_security_group", "InvalidGroup.NotFound", "group not found", 400)
    ec2.add_response("delete_security_group", {})
    assert run(clients, Clock()) == ("SUCCESS", "OK")


def test_delete_domain_resource_in_use_means_already_deleting_and_is_waited_for(aws):
    clients, stubs = aws
    sm = stubs["sagemaker"]
    clock = Clock()
    sm.add_response("describe_domain", domain("InService"))
    sm.add_client_error("delete_domain", "ResourceInUse", "Domain is being deleted", 400)
    sm.add_client_error("describe_domain", "ResourceNotFound", "Domain not found", 400)
    home = domain_teardown.delete_domain_and_home(clients["sagemaker"], DOMAIN, deadline=600, clock=clock, sleep=clock.sleep)
    assert home == HOME and clock.sleeps == []


def test_time_running_out_while_the_domain_deletes_fails_naming_domain_and_home(aws):
    clients, stubs = aws
    sm, cfn = stubs["sagemaker"], stubs["cloudformation"]
    empty_apps_and_spaces(sm)
    stack_status(cfn, "DELETE_IN_PROGRESS")
    sm.add_response("list_user_profiles", {"UserProfiles": []})
    sm.add_response("list_user_profiles", {"UserProfiles": []})
    sm.add_response("describe_domain", domain("InService"))
    sm.add_response("delete_domain", {})
    # 120 s budget - 60 s margin: four 15 s polls, then the deadline
    for _ in range(5):
        sm.add_response("describe_domain", domain("Deleting"))
    clock = Clock()
    status, reason = run(clients, clock, remaining=120)
    assert status == "FAILED"
    assert reason == (
        f"CleanupTimeout: domain {DOMAIN} still Deleting (home EFS {HOME} is deleted with it); "
        "run `cdk destroy` again to resume (every step is idempotent)"
    )
    assert clock.now <= 120 - index.SAFETY_MARGIN_SECONDS


def test_a_failed_domain_deletion_is_reported_with_sagemakers_reason(aws):
    clients, stubs = aws
    sm = stubs["sagemaker"]
    sm.add_response("describe_domain", domain("InService"))
    sm.add_response("delete_domain", {})
    sm.add_response("describe_domain", domain("Delete_Failed"))
    with pytest.raises(waiting.CleanupFailed, match=f"domain {DOMAIN} failed to delete: EFS file system is in use; home EFS {HOME} may remain"):
        domain_teardown.delete_domain_and_home(clients["sagemaker"], DOMAIN, deadline=600, clock=Clock(), sleep=lambda s: None)


def test_a_profile_that_fails_to_delete_is_named(aws):
    clients, stubs = aws
    sm = stubs["sagemaker"]
    sm.add_response("list_user_profiles", {"UserProfiles": [profile("ana")]})
    sm.add_response("delete_user_profile", {})
    sm.add_response("list_user_profiles", {"UserProfiles": [profile("ana", "Delete_Failed")]})
    with pytest.raises(waiting.CleanupFailed, match=r"user profiles of domain d-abc123 failed to delete: \['ana'\]"):
        domain_teardown.delete_user_profiles(clients["sagemaker"], DOMAIN, deadline=600, clock=Clock(), sleep=lambda s: None)


def test_profiles_that_never_go_time_out_with_their_names(aws):
    clients, stubs = aws
    sm = stubs["sagemaker"]
    sm.add_response("list_user_profiles", {"UserProfiles": [profile("ana", "Deleting")]})  # not deleted again
    for _ in range(3):
        sm.add_response("list_user_profiles", {"UserProfiles": [profile("ana", "Deleting")]})
    clock = Clock()
    with pytest.raises(waiting.CleanupTimeout, match=r"domain d-abc123: 1 user profiles still deleting: \['ana'\]; run `cdk destroy` again"):
        domain_teardown.delete_user_profiles(clients["sagemaker"], DOMAIN, deadline=30, clock=clock, sleep=clock.sleep)


def test_security_groups_held_by_interfaces_past_the_deadline_fail_naming_them_after_backoff(aws):
    clients, stubs = aws
    ec2 = stubs["ec2"]
    ec2.add_response("describe_security_groups", {"SecurityGroups": nfs_groups()})
    ec2.add_response("revoke_security_group_ingress", {"Return": True})
    ec2.add_response("revoke_security_group_egress", {"Return": True})
    # both groups in use on every attempt: 0, 5, 15, 35, 75, 135 s; the next wait would pass 180
    for _ in range(6):
        for _ in (INBOUND, OUTBOUND):
            ec2.add_client_error("delete_security_group", "DependencyViolation", "has a dependent object", 400)
    clock = Clock()
    with pytest.raises(waiting.CleanupTimeout) as err:
        domain_teardown.delete_nfs_security_groups(clients["ec2"], VPC, DOMAIN, deadline=180, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [5, 10, 20, 40, 60]  # exponential, capped at BACKOFF_MAX_SECONDS
    assert str(err.value) == (
        f"security groups still in use by network interfaces (DependencyViolation): {INBOUND} ({NFS_NAMES[0]}), "
        f"{OUTBOUND} ({NFS_NAMES[1]}); the home EFS mount targets may still be deleting; "
        "run `cdk destroy` again to resume (every step is idempotent)"
    )


def test_unexpected_ec2_errors_propagate(aws):
    clients, stubs = aws
    stubs["ec2"].add_client_error("describe_security_groups", "UnauthorizedOperation", "not allowed", 403)
    with pytest.raises(Exception, match="UnauthorizedOperation"):
        domain_teardown.delete_nfs_security_groups(clients["ec2"], VPC, DOMAIN, deadline=180, clock=Clock(), sleep=lambda s: None)


@pytest.mark.parametrize("status", ["UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"])
def test_a_delete_while_the_stack_is_not_being_deleted_keeps_the_domain_and_its_home(aws, status):
    # The custom resource replaced or removed by an update: users' data stays.
    clients, stubs = aws
    empty_apps_and_spaces(stubs["sagemaker"])
    stack_status(stubs["cloudformation"], status)
    assert run(clients, Clock()) == ("SUCCESS", "OK")  # and no profile/domain/EC2 call (Stubber)


@pytest.mark.parametrize("flag", ["false", False, None])
def test_without_the_flag_only_apps_and_spaces_are_deleted(aws, flag):
    clients, stubs = aws
    empty_apps_and_spaces(stubs["sagemaker"])
    ev = event(flag=flag)
    if flag is None:
        del ev["ResourceProperties"]["DeleteHomeEfsOnDestroy"]
    assert run(clients, Clock(), ev) == ("SUCCESS", "OK")  # no CloudFormation, profile or EC2 call


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_with_the_flag_touch_nothing(aws, request_type):
    clients, _ = aws
    assert run(clients, Clock(), event(request_type)) == ("SUCCESS", "OK")
