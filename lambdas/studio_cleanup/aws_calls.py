"""What the custom resources' boto3 calls share: paging, error codes, errors to tolerate.

Plain boto3, no dependencies: the asset directory is the deployment package.
"""

from __future__ import annotations

from typing import Any, Callable

from botocore.exceptions import ClientError


def pages(
    call: Callable[..., dict], key: str, *, request_token: str = "NextToken", response_token: str = "NextToken",
    **kwargs: Any,
) -> list[dict]:
    """Every item of a paginated List/Describe call (EFS names its tokens Marker/NextMarker)."""
    items: list[dict] = []
    token = None
    while True:
        page = call(**kwargs, **({request_token: token} if token else {}))
        items.extend(page.get(key, []))
        token = page.get(response_token)
        if not token:
            return items


def error_code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "")


def tolerate(call: Callable[..., Any], gone: tuple[str, ...], **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except ClientError as err:
        if error_code(err) not in gone:
            raise
