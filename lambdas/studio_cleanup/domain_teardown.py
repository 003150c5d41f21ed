"""Delete a Studio domain's user profiles, the domain with its home EFS volume, then the
volume's NFS security groups (steps 1-3 of the `index` module's docstring), and tell
whether the stack itself is going away.

Plain boto3, no dependencies: the asset directory is the deployment package.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from botocore.exceptions import ClientError

try:  # the package, as the tests import it
    from .aws_calls import error_code, pages, tolerate
    from .waiting import POLL_SECONDS, CleanupFailed, CleanupTimeout, resume_hint, wait_until_gone
except ImportError:  # the Lambda runtime: the asset root is on sys.path
    from aws_calls import error_code, pages, tolerate  # type: ignore[no-redef]
    from waiting import (  # type: ignore[no-redef]
        POLL_SECONDS,
        CleanupFailed,
        CleanupTimeout,
        resume_hint,
        wait_until_gone,
    )

logger = logging.getLogger()

PROFILE_DELETING = {"Deleting"}
DELETE_FAILED = "Delete_Failed"
# Stack states in which the stack itself is going away: the only ones in which the
# cleanup deletes the domain and its home volume. A Delete in any other state (the
# custom resource replaced or removed by an update) leaves the domain alone.
STACK_GOING_AWAY = {"DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"}
# SageMaker's names for the security groups it creates for the home EFS volume.
NFS_GROUP_NAMES = ("security-group-for-inbound-nfs-{}", "security-group-for-outbound-nfs-{}")
# DeleteSecurityGroup retries while mount-target interfaces are released.
BACKOFF_FIRST_SECONDS = 5
BACKOFF_MAX_SECONDS = 60


def list_user_profiles(client: Any, domain_id: str) -> list[dict]:
    return pages(client.list_user_profiles, "UserProfiles", DomainIdEquals=domain_id, MaxResults=100)


def delete_user_profiles(
    client: Any,
    domain_id: str,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Delete every user profile of `domain_id` and wait until none is listed.

    Profiles already `Deleting` are waited for, not deleted again. Raises
    `CleanupFailed` if SageMaker reports `Delete_Failed`, `CleanupTimeout` at `deadline`.
    """
    try:
        profiles = list_user_profiles(client, domain_id)
    except ClientError as err:
        if error_code(err) == "ResourceNotFound":
            return 0
        raise
    for profile in profiles:
        if profile.get("Status") in PROFILE_DELETING:
            continue
        try:
            client.delete_user_profile(DomainId=domain_id, UserProfileName=profile["UserProfileName"])
        except ClientError as err:
            if error_code(err) not in ("ResourceNotFound", "ResourceInUse"):
                raise

    def remaining() -> list[str]:
        left = list_user_profiles(client, domain_id)
        failed = sorted(p["UserProfileName"] for p in left if p.get("Status") == DELETE_FAILED)
        if failed:
            raise CleanupFailed(
                f"user profiles of domain {domain_id} failed to delete: {failed} "
                "(see DescribeUserProfile FailureReason); delete them, then " + resume_hint()
            )
        return [p["UserProfileName"] for p in left]

    try:
        wait_until_gone("user profiles", remaining, deadline, clock, sleep)
    except CleanupTimeout as err:
        raise CleanupTimeout(f"domain {domain_id}: {err}; {resume_hint()}") from None
    return len(profiles)


def describe_domain(client: Any, domain_id: str) -> dict | None:
    """DescribeDomain, or None once the domain is gone."""
    try:
        return client.describe_domain(DomainId=domain_id)
    except ClientError as err:
        if error_code(err) == "ResourceNotFound":
            return None
        raise


def delete_domain_and_home(
    client: Any,
    domain_id: str,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """DeleteDomain with the home EFS volume, and wait until DescribeDomain says
    ResourceNotFound. Return the home file system's id (None if the domain was
    already gone). Tolerates a domain already deleting or gone."""
    domain = describe_domain(client, domain_id)
    if domain is None:
        return None
    home = domain.get("HomeEfsFileSystemId")
    if domain.get("Status") != "Deleting":
        try:
            client.delete_domain(DomainId=domain_id, RetentionPolicy={"HomeEfsFileSystem": "Delete"})
        except ClientError as err:
            if error_code(err) == "ResourceNotFound":
                return home
            if error_code(err) != "ResourceInUse":
                raise
    while True:
        domain = describe_domain(client, domain_id)
        if domain is None:
            logger.info("domain %s and home EFS %s deleted", domain_id, home)
            return home
        if domain.get("Status") == DELETE_FAILED:
            raise CleanupFailed(
                f"domain {domain_id} failed to delete: {domain.get('FailureReason', 'no reason given')}; "
                f"home EFS {home} may remain; fix the cause, then " + resume_hint()
            )
        if clock() >= deadline:
            raise CleanupTimeout(
                f"domain {domain_id} still {domain.get('Status')} (home EFS {home} is deleted with it); "
                + resume_hint()
            )
        logger.info("waiting for domain %s to be deleted (status %s)", domain_id, domain.get("Status"))
        sleep(POLL_SECONDS)


def find_nfs_security_groups(ec2: Any, vpc_id: str, domain_id: str) -> list[dict]:
    """The inbound/outbound NFS security groups SageMaker created for `domain_id` in `vpc_id`."""
    names = [n.format(domain_id) for n in NFS_GROUP_NAMES]
    return pages(
        ec2.describe_security_groups,
        "SecurityGroups",
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": names}],
    )


def _referencing(permissions: list[dict], group_ids: set[str]) -> list[dict]:
    """The permissions' group references to `group_ids`, as a revoke request wants them."""
    out = []
    for perm in permissions:
        pairs = [{"GroupId": p["GroupId"]} for p in perm.get("UserIdGroupPairs", []) if p.get("GroupId") in group_ids]
        if pairs:
            out.append(
                {
                    "IpProtocol": perm["IpProtocol"],
                    **{k: perm[k] for k in ("FromPort", "ToPort") if k in perm},
                    "UserIdGroupPairs": pairs,
                }
            )
    return out


def delete_nfs_security_groups(
    ec2: Any,
    vpc_id: str,
    domain_id: str,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Delete the domain's two NFS security groups; return the ids deleted.

    They reference each other, so their cross-references are revoked first.
    DeleteSecurityGroup answers DependencyViolation while network interfaces
    (the home volume's mount targets) still use a group: retried with
    exponential backoff until `deadline`, then `CleanupTimeout` naming them.
    """
    groups = find_nfs_security_groups(ec2, vpc_id, domain_id)
    ids = {g["GroupId"] for g in groups}
    gone = ("InvalidGroup.NotFound", "InvalidPermission.NotFound")
    for group in groups:
        ingress = _referencing(group.get("IpPermissions", []), ids)
        egress = _referencing(group.get("IpPermissionsEgress", []), ids)
        if ingress:
            tolerate(ec2.revoke_security_group_ingress, gone, GroupId=group["GroupId"], IpPermissions=ingress)
        if egress:
            tolerate(ec2.revoke_security_group_egress, gone, GroupId=group["GroupId"], IpPermissions=egress)
    names = {g["GroupId"]: g.get("GroupName", "") for g in groups}
    left = sorted(ids)
    delay = BACKOFF_FIRST_SECONDS
    while True:
        blocked = []
        for group_id in left:
            try:
                ec2.delete_security_group(GroupId=group_id)
            except ClientError as err:
                if error_code(err) == "InvalidGroup.NotFound":
                    continue
                if error_code(err) != "DependencyViolation":
                    raise
                blocked.append(group_id)
        if not blocked:
            return sorted(ids)
        if clock() + delay >= deadline:
            listed = ", ".join(f"{g} ({names[g]})" for g in blocked)
            raise CleanupTimeout(
                f"security groups still in use by network interfaces (DependencyViolation): {listed}; "
                "the home EFS mount targets may still be deleting; " + resume_hint()
            )
        logger.info("security groups %s still in use; retrying in %ss", blocked, delay)
        sleep(delay)
        delay = min(delay * 2, BACKOFF_MAX_SECONDS)
        left = blocked


def stack_is_going_away(cfn: Any, stack_id: str) -> bool:
    """True while the custom resource's own stack is being deleted (or rolled back
    after a failed create): only then may the cleanup delete users' data."""
    [stack] = cfn.describe_stacks(StackName=stack_id)["Stacks"]
    return stack["StackStatus"] in STACK_GOING_AWAY


def delete_domain_home_and_groups(
    client: Any,
    ec2: Any,
    domain_id: str,
    vpc_id: str,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Steps 1-3 of the `index` module's docstring, in order."""
    profiles = delete_user_profiles(client, domain_id, deadline=deadline, clock=clock, sleep=sleep)
    home = delete_domain_and_home(client, domain_id, deadline=deadline, clock=clock, sleep=sleep)
    groups = delete_nfs_security_groups(ec2, vpc_id, domain_id, deadline=deadline, clock=clock, sleep=sleep)
    return {"profiles": profiles, "home_efs": home, "security_groups": groups}
