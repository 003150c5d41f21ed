"""tools/export_feedback.py on moto: a few hundred stored generations and their feedback,
read back page by page, filtered by time and model, written as a preference dataset and as
JumpStart instruction-tuning data, and both files validated against their formats."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from moto import mock_aws

from frontdoor.adapters.feedback_store import DynamoFeedbackStore
from frontdoor.services.feedback import build_generation_record, build_record
from tests.jsonl_formats import validate_instructions, validate_preferences
from tools import export_feedback

TABLE = "feedback"
START = datetime(2026, 11, 1, tzinfo=timezone.utc)
MODELS = ("falcon-7b-instruct", "mistral-7b-instruct")
REQUESTS = 300

def _generation(i: int, store: DynamoFeedbackStore) -> None:
    created = START + timedelta(hours=2 * i)
    # req-0008 (ranked) sampled three equal outputs: nothing to prefer.
    outputs = [f" answer {i}.{k}" for k in range(3)] if i != 8 else [" same"] * 3
    store.put(build_generation_record(
        f"req-{i:04d}", route="generate", model=MODELS[i % 2], prompt=f"User: question {i}\nAssistant:",
        inputs=f"question {i}", parameters={"max_new_tokens": 8, "temperature": 0.7},
        candidates=[{"id": f"c{k}", "output": out, "seed": 1000 + k} for k, out in enumerate(outputs)],
        retention_days=90, now=created))


def _feedback(i: int, store: DynamoFeedbackStore) -> None:
    """Three kinds of feedback, by i mod 4: a resolved ranking of all three candidates, a raw
    ranking by index, two ratings of different candidates; none for i mod 4 == 3."""
    rid, when = f"req-{i:04d}", START + timedelta(hours=2 * i, minutes=5)
    kind = i % 4
    if kind == 0:
        store.put(build_record(rid, None, ["c2", 0, "c1"], None, ranked_ids=["c2", "c0", "c1"], now=when))
    elif kind == 1:
        store.put(build_record(rid, None, [1, 0], None, now=when))
    elif kind == 2:
        store.put(build_record(rid, 5, None, "great", candidate_id="c0", now=when))
        store.put(build_record(rid, 2, None, None, candidate_id="c1", now=when + timedelta(minutes=1)))


def _expected(indices: list[int]) -> tuple[int, int]:
    """(preference pairs, instruction rows) the export must write for these requests."""
    pairs = instructions = 0
    for i in indices:
        kind = i % 4
        pairs += {0: 3, 1: 1, 2: 1, 3: 0}[kind] if i != 8 else 0  # equal outputs: no pairs
        instructions += {0: 1, 1: 1, 2: 1, 3: 0}[kind]
    return pairs, instructions


@pytest.fixture(scope="module")
def table():
    """One table for the module: the tests only read it."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
        store = DynamoFeedbackStore(TABLE, client)
        for i in range(REQUESTS):
            _generation(i, store)
            _feedback(i, store)
        # Feedback on a generation that was never stored (storage off then, or expired): not exported.
        store.put(build_record("req-orphan", None, ["a1", "b2"], None, now=START + timedelta(days=3)))
        yield client


def test_exports_every_joined_request_page_by_page(table, tmp_path):
    stats = export_feedback.export(table, TABLE, preferences=tmp_path / "prefs.jsonl",
                                   instructions_dir=tmp_path / "sft", page_size=50)
    items = REQUESTS + sum({0: 1, 1: 1, 2: 2, 3: 0}[i % 4] for i in range(REQUESTS)) + 1
    assert stats.items == items and stats.pages >= items // 50
    assert stats.generations == REQUESTS and stats.joined == REQUESTS * 3 // 4
    pairs, instructions = _expected(list(range(REQUESTS)))
    prefs = validate_preferences(tmp_path / "prefs.jsonl")
    sft = validate_instructions(tmp_path / "sft")
    assert (len(prefs), len(sft)) == (stats.preference_pairs, stats.instructions) == (pairs, instructions)


def test_a_ranking_becomes_every_ordered_pair_and_its_winner_an_instruction(table, tmp_path):
    export_feedback.export(table, TABLE, since="2026-11-01T00:00:00", until="2026-11-01T01:00:00",
                           preferences=tmp_path / "p.jsonl", instructions_dir=tmp_path / "sft")
    # Only req-0000 (ranked c2 > c0 > c1) was generated in that hour.
    assert validate_preferences(tmp_path / "p.jsonl") == [
        {"prompt": "User: question 0\nAssistant:", "chosen": " answer 0.2", "rejected": " answer 0.0"},
        {"prompt": "User: question 0\nAssistant:", "chosen": " answer 0.2", "rejected": " answer 0.1"},
        {"prompt": "User: question 0\nAssistant:", "chosen": " answer 0.0", "rejected": " answer 0.1"},
    ]
    assert validate_instructions(tmp_path / "sft") == [
        {"instruction": "question 0", "context": "", "response": "answer 0.2"}]


def test_ratings_and_index_rankings_are_resolved_against_the_candidates(table, tmp_path):
    export_feedback.export(table, TABLE, since="2026-11-01T02:00:00Z", until="2026-11-01T06:00:00Z",
                           preferences=tmp_path / "p.jsonl", instructions_dir=tmp_path / "sft")
    # req-0001: ranking [1, 0] by index; req-0002: c0 rated 5, c1 rated 2.
    assert validate_preferences(tmp_path / "p.jsonl") == [
        {"prompt": "User: question 1\nAssistant:", "chosen": " answer 1.1", "rejected": " answer 1.0"},
        {"prompt": "User: question 2\nAssistant:", "chosen": " answer 2.0", "rejected": " answer 2.1"},
    ]
    assert [r["response"] for r in validate_instructions(tmp_path / "sft")] == ["answer 1.1", "answer 2.0"]


def test_filters_by_time_and_model(table, tmp_path):
    since, until = START + timedelta(days=5), START + timedelta(days=15)
    stats = export_feedback.export(table, TABLE, since=since.isoformat(), until=until.isoformat(),
                                   models=["mistral-7b-instruct"], preferences=tmp_path / "p.jsonl",
                                   instructions_dir=tmp_path / "sft", page_size=40)
    chosen = [i for i in range(REQUESTS)
              if since <= START + timedelta(hours=2 * i) < until and MODELS[i % 2] == "mistral-7b-instruct"]
    assert stats.generations == len(chosen) == 60
    pairs, instructions = _expected(chosen)
    assert len(validate_preferences(tmp_path / "p.jsonl")) == pairs
    assert len(validate_instructions(tmp_path / "sft")) == instructions
    assert {int(row["prompt"].split()[2]) for row in validate_preferences(tmp_path / "p.jsonl")} <= set(chosen)


def test_cli_writes_both_files_and_needs_an_output(table, tmp_path, capsys):
    args = ["--table", TABLE, "--model", "falcon-7b-instruct", "--min-rating", "5", "--page-size", "100",
            "--preferences", str(tmp_path / "p.jsonl"), "--instructions-dir", str(tmp_path / "sft")]
    assert export_feedback.main(args, client=table) == 0
    summary = json.loads(capsys.readouterr().err)
    assert summary["generations"] == REQUESTS // 2 and summary["pages"] >= 3
    validate_preferences(tmp_path / "p.jsonl")
    validate_instructions(tmp_path / "sft")
    with pytest.raises(SystemExit):
        export_feedback.main(["--table", TABLE], client=table)
