"""Feedback and stored generations, for later preference tuning (pure; the store is an adapter).

One DynamoDB partition per generation request (``pk = REQUEST#<request id>``):

- ``sk = GENERATION``: what was asked and answered -- the prompt as sent, the user's
  text, the outputs (candidates) with their ids and seeds -- written at generation
  time, only when the deployment stores generations (``api.feedback.store_generations``;
  it is user data, off by default), with ``expires_at`` (epoch seconds, the table's TTL
  attribute) ``api.feedback.retention_days`` ahead;
- ``sk = FEEDBACK#<time>#<id>``: each rating or ranking, in arrival order, joined to
  the generation by the partition (``tools/export_feedback.py`` turns the pair into
  training data). With generations stored, feedback expires with the same retention.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from inference.errors import BadRequest

MAX_COMMENT_CHARS = 2000
GENERATION_SK = "GENERATION"
FEEDBACK_SK_PREFIX = "FEEDBACK#"
# DynamoDB's item limit is 400 KB; leave room for attribute names and numbers.
MAX_GENERATION_BYTES = 350_000
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def partition(request_id: str) -> str:
    return f"REQUEST#{request_id}"


def timestamp(now: datetime) -> str:
    """Sortable UTC time: string order is time order (the export filters on it)."""
    return now.astimezone(timezone.utc).strftime(TIME_FORMAT)


def expiry(now: datetime, retention_days: int | None) -> int | None:
    """``expires_at`` for the table's TTL: epoch seconds ``retention_days`` after ``now``."""
    if retention_days is None:
        return None
    return int((now + timedelta(days=retention_days)).timestamp())


def build_record(request_id: str, rating: int | None, ranking: list[Any] | None, comment: str | None,
                 *, now: datetime | None = None, feedback_id: str | None = None,
                 candidate_id: str | None = None, ranked_ids: list[str] | None = None,
                 model: str | None = None, retention_days: int | None = None) -> dict[str, Any]:
    """One item per feedback; pk groups all feedback on one generation request.

    Keys follow docs/contracts.md (``pk``/``sk`` strings). The sort key starts with
    the timestamp so a request's feedback reads back in order. ``ranked_ids`` is the
    ranking as candidate ids, when the generation was stored and the ranking resolved
    against it; ``model`` comes from that generation too.
    """
    moment = now or datetime.now(timezone.utc)
    created = timestamp(moment)
    fid = feedback_id or uuid.uuid4().hex
    record: dict[str, Any] = {
        "pk": partition(request_id),
        "sk": f"{FEEDBACK_SK_PREFIX}{created}#{fid}",
        "request_id": request_id,
        "feedback_id": fid,
        "created_at": created,
        "kind": "rating" if rating is not None else "ranking",
    }
    if rating is not None:
        record["rating"] = rating
    if candidate_id is not None:
        record["candidate_id"] = candidate_id
    if ranking is not None:
        record["ranking"] = [str(item) for item in ranking]
    if ranked_ids is not None:
        record["ranked_ids"] = list(ranked_ids)
    if model is not None:
        record["model"] = model
    if comment:
        record["comment"] = comment[:MAX_COMMENT_CHARS]
    expires = expiry(moment, retention_days)
    if expires is not None:
        record["expires_at"] = expires
    return record


def build_generation_record(request_id: str, *, route: str, model: str, prompt: str, inputs: str,
                            candidates: list[dict[str, Any]], parameters: dict[str, Any],
                            retention_days: int, system: str | None = None, template: str | None = None,
                            variables: dict[str, str] | None = None,
                            now: datetime | None = None) -> dict[str, Any] | None:
    """The ``GENERATION`` item of one request: the exact prompt sent, the user's text
    (``inputs``: the raw input, or a template's text before the model's prompt format),
    and every output with its id. None values are left out. A record over DynamoDB's
    item size drops ``variables``, then ``prompt``; if it still does not fit, None."""
    moment = now or datetime.now(timezone.utc)
    record: dict[str, Any] = {
        "pk": partition(request_id),
        "sk": GENERATION_SK,
        "request_id": request_id,
        "created_at": timestamp(moment),
        "expires_at": expiry(moment, retention_days),
        "route": route,
        "model": model,
        "template": template,
        "system": system,
        "inputs": inputs,
        "prompt": prompt,
        "variables": variables,
        "parameters": {k: v for k, v in parameters.items() if v is not None},
        "candidates": [{k: v for k, v in c.items() if v is not None} for c in candidates],
    }
    record = {k: v for k, v in record.items() if v is not None}
    for optional in ("variables", "prompt"):
        if _size(record) <= MAX_GENERATION_BYTES:
            break
        record.pop(optional, None)
    return record if _size(record) <= MAX_GENERATION_BYTES else None


def _size(record: dict[str, Any]) -> int:
    return len(json.dumps(record, ensure_ascii=False).encode("utf-8"))


def candidate_ids(generation: dict[str, Any]) -> list[str]:
    return [str(c["id"]) for c in generation.get("candidates", [])]


def resolve_feedback(generation: dict[str, Any], ranking: list[Any] | None,
                     candidate_id: str | None) -> list[str] | None:
    """Check feedback against the stored generation it is about; returns the ranking
    as candidate ids (an index ``i`` is the i-th candidate, ``c<i>``).

    Unknown ids, indices past the last candidate and two items naming one candidate
    are 422: the document cannot know which outputs a generation had.
    """
    ids = candidate_ids(generation)
    if candidate_id is not None and candidate_id not in ids:
        raise BadRequest(f"request {generation.get('request_id')} has no candidate {candidate_id!r}; "
                         f"its candidates are {ids}", details=[{"field": "candidate_id", "type": "unknown"}])
    if ranking is None:
        return None
    resolved: list[str] = []
    for position, item in enumerate(ranking):
        if isinstance(item, int):
            if item >= len(ids):
                raise BadRequest(f"ranking[{position}]: index {item} is past the last of the request's "
                                 f"{len(ids)} outputs", details=[{"field": f"ranking.{position}", "type": "unknown"}])
            resolved.append(ids[item])
        elif item in ids:
            resolved.append(item)
        else:
            raise BadRequest(f"ranking[{position}]: the request has no candidate {item!r}; its candidates are {ids}",
                             details=[{"field": f"ranking.{position}", "type": "unknown"}])
    if len(set(resolved)) != len(resolved):
        raise BadRequest("ranking names one candidate twice (by index and by id)",
                         details=[{"field": "ranking", "type": "duplicate"}])
    return resolved
