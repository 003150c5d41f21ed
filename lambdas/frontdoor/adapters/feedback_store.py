"""DynamoDB store for feedback (table from FEEDBACK_TABLE_NAME, keys pk/sk)."""

from __future__ import annotations

from typing import Any

from inference.clients import new_client
from inference.errors import Throttled

_THROTTLE_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException",
                             "RequestLimitExceeded"})


def _attr(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, list):
        return {"L": [_attr(v) for v in value]}
    return {"S": str(value)}


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
        from botocore.exceptions import ClientError

        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={key: _attr(value) for key, value in record.items()},
                # Never overwrite: the sort key is unique, so this only guards bugs.
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _THROTTLE_CODES:
                raise Throttled("feedback storage is busy", retry_after=1) from exc
            raise
