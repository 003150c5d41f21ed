"""Feedback and stored-generation records (pure), their DynamoDB encoding, and the
front door's feedback environment."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from frontdoor.adapters.feedback_store import from_attr, to_attr
from frontdoor.config import Environment
from frontdoor.errors import status_of
from frontdoor.services.feedback import (
    MAX_GENERATION_BYTES,
    build_generation_record,
    build_record,
    resolve_feedback,
)
from inference.errors import BadRequest, ConfigError

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
GENERATION = {"request_id": "r1", "candidates": [{"id": "c0"}, {"id": "c1"}, {"id": "c2"}]}


def _generation(**changes):
    args = dict(route="generate", model="m", prompt="P", inputs="I", parameters={"temperature": 0.7, "seed": None},
                 candidates=[{"id": "c0", "output": "a", "seed": 5, "label": None}], retention_days=90, now=NOW)
    return build_generation_record("r1", **{**args, **changes})


def test_a_generation_record_keeps_the_prompt_outputs_and_expires_after_the_retention():
    record = _generation(system="S")
    assert record == {
        "pk": "REQUEST#r1", "sk": "GENERATION", "request_id": "r1", "created_at": "2026-11-30T12:00:00.000000Z",
        "expires_at": int(datetime(2027, 2, 28, 12, 0, tzinfo=timezone.utc).timestamp()), "route": "generate",
        "model": "m", "system": "S", "inputs": "I", "prompt": "P", "parameters": {"temperature": 0.7},
        "candidates": [{"id": "c0", "output": "a", "seed": 5}],
    }


def test_an_oversized_generation_drops_variables_then_the_prompt_then_is_not_stored():
    big = "é" * (MAX_GENERATION_BYTES // 4)
    record = _generation(variables={"v": big}, prompt=big, inputs="x")
    assert "variables" not in record and "prompt" in record
    record = _generation(variables={"v": big}, prompt=big * 2, inputs="x")
    assert "variables" not in record and "prompt" not in record
    assert _generation(inputs=big * 3) is None


def test_feedback_with_retention_expires_and_names_the_model():
    record = build_record("r1", None, [2, "c0"], "ok", now=NOW, feedback_id="f", ranked_ids=["c2", "c0"], model="m",
                          retention_days=30)
    assert record["ranking"] == ["2", "c0"] and record["ranked_ids"] == ["c2", "c0"] and record["model"] == "m"
    assert record["expires_at"] == int(datetime(2026, 12, 30, 12, 0, tzinfo=timezone.utc).timestamp())
    assert "expires_at" not in build_record("r1", 3, None, None, now=NOW)  # storage off: kept as before


@pytest.mark.parametrize(("ranking", "candidate_id", "expected"), [
    ([2, "c0", 1], None, ["c2", "c0", "c1"]),
    (None, "c1", None),
])
def test_feedback_resolves_against_the_generations_candidates(ranking, candidate_id, expected):
    assert resolve_feedback(GENERATION, ranking, candidate_id) == expected


@pytest.mark.parametrize(("ranking", "candidate_id", "message"), [
    (["c0", "c9"], None, "no candidate 'c9'"),
    ([0, 3], None, "index 3 is past the last"),
    ([1, "c1"], None, "twice"),
    (None, "c3", "no candidate 'c3'"),
])
def test_feedback_naming_outputs_the_generation_lacks_is_422(ranking, candidate_id, message):
    with pytest.raises(BadRequest, match=message) as err:
        resolve_feedback(GENERATION, ranking, candidate_id)
    assert status_of(err.value) == 422


def test_dynamodb_encoding_round_trips_nested_values():
    value = {"a": [1, 0.7, "x", True, None, {"b": -3}], "c": 2.0}
    assert from_attr(to_attr(value)) == value
    assert to_attr(0.7) == {"N": "0.7"} and to_attr({"k": None}) == {"M": {"k": {"NULL": True}}}


def test_the_environment_says_whether_to_store_generations():
    assert Environment.from_env({}) == Environment(None, None, False, 90)
    env = Environment.from_env({"FEEDBACK_TABLE_NAME": "t", "FEEDBACK_STORE_GENERATIONS": "true",
                                "FEEDBACK_RETENTION_DAYS": "7"})
    assert (env.store_generations, env.retention_days) == (True, 7)
    for bad in ({"FEEDBACK_STORE_GENERATIONS": "yes"}, {"FEEDBACK_RETENTION_DAYS": "0"},
                {"FEEDBACK_RETENTION_DAYS": "ninety"}):
        with pytest.raises(ConfigError):
            Environment.from_env(bad)
