"""Delete the apps and spaces users left in a Studio domain, and wait until they are gone.

DeleteUserProfile and DeleteDomain fail while apps or spaces exist.
Plain boto3, no dependencies: the asset directory is the deployment package.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from botocore.exceptions import ClientError

try:  # the package, as the tests import it
    from .aws_calls import error_code, pages
    from .waiting import wait_until_gone
except ImportError:  # the Lambda runtime: the asset root is on sys.path
    from aws_calls import error_code, pages  # type: ignore[no-redef]
    from waiting import wait_until_gone  # type: ignore[no-redef]

APP_GONE = {"Deleted"}
SPACE_DELETING = {"Deleting"}


def list_live_apps(client: Any, domain_id: str) -> list[dict]:
    apps = pages(client.list_apps, "Apps", DomainIdEquals=domain_id, MaxResults=100)
    return [a for a in apps if a.get("Status") not in APP_GONE]


def list_spaces(client: Any, domain_id: str) -> list[dict]:
    return pages(client.list_spaces, "Spaces", DomainIdEquals=domain_id, MaxResults=100)


def _delete_app(client: Any, domain_id: str, app: dict) -> None:
    if app.get("Status") == "Deleting":
        return
    owner = {"SpaceName": app["SpaceName"]} if app.get("SpaceName") else {"UserProfileName": app["UserProfileName"]}
    try:
        client.delete_app(DomainId=domain_id, AppType=app["AppType"], AppName=app["AppName"], **owner)
    except ClientError as err:
        # Gone or already deleting since the listing: the wait loop settles it.
        if error_code(err) not in ("ResourceNotFound", "ResourceInUse"):
            raise


def _delete_space(client: Any, domain_id: str, space: dict) -> None:
    if space.get("Status") in SPACE_DELETING:
        return
    try:
        client.delete_space(DomainId=domain_id, SpaceName=space["SpaceName"])
    except ClientError as err:
        if error_code(err) not in ("ResourceNotFound", "ResourceInUse"):
            raise


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
        if error_code(err) == "ResourceNotFound":
            return {"apps": 0, "spaces": 0}
        raise
    for app in apps:
        _delete_app(client, domain_id, app)
    def live_apps() -> list[str]:
        return [
            f"{a.get('SpaceName') or a.get('UserProfileName')}/{a['AppType']}/{a['AppName']}"
            for a in list_live_apps(client, domain_id)
        ]

    wait_until_gone("apps", live_apps, deadline, clock, sleep)
    spaces = list_spaces(client, domain_id)
    for space in spaces:
        _delete_space(client, domain_id, space)
    wait_until_gone("spaces", lambda: [s["SpaceName"] for s in list_spaces(client, domain_id)], deadline, clock, sleep)
    return {"apps": len(apps), "spaces": len(spaces)}
