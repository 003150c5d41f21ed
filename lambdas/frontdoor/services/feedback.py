"""Feedback records for later preference tuning (pure; the store is an adapter)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

MAX_COMMENT_CHARS = 2000


def build_record(request_id: str, rating: int | None, ranking: list[Any] | None, comment: str | None,
                 *, now: datetime | None = None, feedback_id: str | None = None) -> dict[str, Any]:
    """One item per feedback; pk groups all feedback on one generation request.

    Keys follow docs/contracts.md (``pk``/``sk`` strings). The sort key starts with
    the timestamp so a request's feedback reads back in order.
    """
    created = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fid = feedback_id or uuid.uuid4().hex
    record: dict[str, Any] = {
        "pk": f"REQUEST#{request_id}",
        "sk": f"FEEDBACK#{created}#{fid}",
        "request_id": request_id,
        "feedback_id": fid,
        "created_at": created,
        "kind": "rating" if rating is not None else "ranking",
    }
    if rating is not None:
        record["rating"] = rating
    if ranking is not None:
        record["ranking"] = [str(item) for item in ranking]
    if comment:
        record["comment"] = comment[:MAX_COMMENT_CHARS]
    return record
