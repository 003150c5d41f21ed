"""DynamoDB store for feedback and stored generations (table from FEEDBACK_TABLE_NAME,
keys pk/sk; item shapes in frontdoor.services.feedback)."""

from __future__ import annotations

from typing import Any

from inference.clients import new_client
from inference.errors import Throttled

_THROTTLE_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException",
                             "RequestLimitExceeded"})


def to_attr(value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB attribute value (low-level client spelling)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": repr(value) if isinstance(value, float) else str(value)}
    if isinstance(value, list):
        return {"L": [to_attr(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {str(k): to_attr(v) for k, v in value.items()}}
    return {"S": str(value)}


def from_attr(attr: dict[str, Any]) -> Any:
    """The inverse of ``to_attr``: numbers come back as int when integral, else float."""
    (kind, value), = attr.items()
    if kind == "N":
        number = float(value)
        return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    if kind == "L":
        return [from_attr(v) for v in value]
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "NULL":
        return None
    if kind in ("S", "BOOL"):
        return value
    raise ValueError(f"unsupported DynamoDB attribute type {kind}")


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in item.items()}


class DynamoFeedbackStore:
    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = new_client("dynamodb", connect_timeout=2, read_timeout=5,
                                      retries={"mode": "standard", "total_max_attempts": 3})
        return self._client

    def put(self, record: dict[str, Any]) -> None:
        """Store one feedback or generation item (``services.feedback``)."""
        from botocore.exceptions import ClientError

        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={key: to_attr(value) for key, value in record.items()},
                # Never overwrite: the sort key is unique, so this only guards bugs.
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _THROTTLE_CODES:
                raise Throttled("feedback storage is busy", retry_after=1) from exc
            raise

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        """One item as plain Python values, or None (also once its TTL has passed: DynamoDB
        deletes expired items within days, so an expired one is treated as gone)."""
        import time

        from botocore.exceptions import ClientError

        try:
            item = self.client.get_item(TableName=self.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}},
                                        ConsistentRead=True).get("Item")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _THROTTLE_CODES:
                raise Throttled("feedback storage is busy", retry_after=1) from exc
            raise
        if item is None:
            return None
        record = from_item(item)
        expires = record.get("expires_at")
        if isinstance(expires, (int, float)) and expires <= time.time():
            return None
        return record
