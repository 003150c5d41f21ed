"""Custom resource: before CloudFormation deletes a Studio domain's user profiles,
delete the apps and spaces users left behind, and wait until they are gone.

DeleteUserProfile and DeleteDomain fail while apps or spaces exist, so without
this `cdk destroy` stops half-way. Create and Update do nothing. The home EFS
volume is not touched: SageMaker retains it when the domain is deleted.

Plain boto3, no dependencies: the asset directory is the deployment package.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from typing import Any, Callable

from botocore.exceptions import ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

POLL_SECONDS = 15
# Leave time to report to CloudFormation before the Lambda timeout.
SAFETY_MARGIN_SECONDS = 60
APP_GONE = {"Deleted"}
SPACE_DELETING = {"Deleting"}


class CleanupTimeout(RuntimeError):
    """Apps or spaces were still deleting when time ran out."""


def _pages(call: Callable[..., dict], key: str, **kwargs: Any) -> list[dict]:
    items: list[dict] = []
    token = None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        items.extend(page.get(key, []))
        token = page.get("NextToken")
        if not token:
            return items


def _code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "")


def list_live_apps(client: Any, domain_id: str) -> list[dict]:
    apps = _pages(client.list_apps, "Apps", DomainIdEquals=domain_id, MaxResults=100)
    return [a for a in apps if a.get("Status") not in APP_GONE]


def list_spaces(client: Any, domain_id: str) -> list[dict]:
    return _pages(client.list_spaces, "Spaces", DomainIdEquals=domain_id, MaxResults=100)


def _delete_app(client: Any, domain_id: str, app: dict) -> None:
    if app.get("Status") == "Deleting":
        return
    owner = {"SpaceName": app["SpaceName"]} if app.get("SpaceName") else {"UserProfileName": app["UserProfileName"]}
    try:
        client.delete_app(DomainId=domain_id, AppType=app["AppType"], AppName=app["AppName"], **owner)
    except ClientError as err:
        # Gone or already deleting since the listing: the wait loop settles it.
        if _code(err) not in ("ResourceNotFound", "ResourceInUse"):
            raise


def _delete_space(client: Any, domain_id: str, space: dict) -> None:
    if space.get("Status") in SPACE_DELETING:
        return
    try:
        client.delete_space(DomainId=domain_id, SpaceName=space["SpaceName"])
    except ClientError as err:
        if _code(err) not in ("ResourceNotFound", "ResourceInUse"):
            raise


def _wait(
    what: str,
    remaining: Callable[[], list],
    deadline: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:
    while True:
        left = remaining()
        if not left:
            return
        if clock() >= deadline:
            raise CleanupTimeout(f"{len(left)} {what} still deleting: {sorted(left)}")
        logger.info("waiting for %d %s to be deleted", len(left), what)
        sleep(POLL_SECONDS)


def delete_apps_and_spaces(
    client: Any,
    domain_id: str,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, int]:
    """Delete every app, then every space, of `domain_id`; return how many of each.

    Apps first: a space cannot be deleted while an app runs in it.
    Raises `CleanupTimeout` if they are not all gone by `deadline` (a `clock()` value).
    """
    try:
        apps = list_live_apps(client, domain_id)
    except ClientError as err:
        if _code(err) == "ResourceNotFound":
            return {"apps": 0, "spaces": 0}
        raise
    for app in apps:
        _delete_app(client, domain_id, app)
    def live_apps() -> list[str]:
        return [
            f"{a.get('SpaceName') or a.get('UserProfileName')}/{a['AppType']}/{a['AppName']}"
            for a in list_live_apps(client, domain_id)
        ]

    _wait("apps", live_apps, deadline, clock, sleep)
    spaces = list_spaces(client, domain_id)
    for space in spaces:
        _delete_space(client, domain_id, space)
    _wait("spaces", lambda: [s["SpaceName"] for s in list_spaces(client, domain_id)], deadline, clock, sleep)
    return {"apps": len(apps), "spaces": len(spaces)}


def send_response(event: dict, status: str, reason: str, physical_id: str) -> None:
    """PUT the result to CloudFormation's pre-signed response URL."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:3000],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - CloudFormation's https URL
        response.read()


def handle(
    event: dict,
    remaining_seconds: float,
    client: Any,
    respond: Callable[..., None] = send_response,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Answer one custom-resource event; always reports to CloudFormation."""
    domain_id = event["ResourceProperties"]["DomainId"]
    physical_id = event.get("PhysicalResourceId") or f"studio-cleanup-{domain_id}"
    try:
        if event["RequestType"] == "Delete":
            deadline = clock() + remaining_seconds - SAFETY_MARGIN_SECONDS
            counts = delete_apps_and_spaces(client, domain_id, deadline=deadline, clock=clock, sleep=sleep)
            logger.info("domain %s: deleted %d apps and %d spaces", domain_id, counts["apps"], counts["spaces"])
        respond(event, "SUCCESS", "OK", physical_id)
    except Exception as exc:  # noqa: BLE001 - any failure must reach CloudFormation, or it waits an hour
        logger.exception("cleanup of domain %s failed", domain_id)
        respond(event, "FAILED", f"{type(exc).__name__}: {exc}", physical_id)


def on_event(event: dict, context: Any) -> None:
    import boto3

    handle(event, context.get_remaining_time_in_millis() / 1000, boto3.client("sagemaker"))
