"""The human-feedback loop end to end over the local server and moto: candidates -> ranked
or rated feedback, checked against the stored generation -> tools/export_feedback.py ->
a preference dataset and JumpStart instruction data that validate against their formats.

The session stack stores generations (tests/lambdas/conftest.py FEEDBACK_ENV: retention 30 days).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from frontdoor.adapters.feedback_store import from_item
from inference.prompts import prompt_format
from local.moto_backend import FEEDBACK_TABLE
from tests.jsonl_formats import validate_instructions, validate_preferences
from tools import export_feedback


@pytest.fixture(scope="module")
def ddb(stack):
    host, port = stack.moto.get_host_and_port()
    return boto3.client("dynamodb", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def _items(ddb, request_id: str) -> dict[str, dict]:
    items = ddb.query(TableName=FEEDBACK_TABLE, KeyConditionExpression="pk = :pk",
                      ExpressionAttributeValues={":pk": {"S": f"REQUEST#{request_id}"}})["Items"]
    return {item["sk"]["S"]: from_item(item) for item in items}


def test_generations_are_stored_with_their_prompt_outputs_and_retention(api, ddb):
    reply = api.post("/v1/generate", {"inputs": "Name a bird.", "system": "Be brief.", "candidates": 2,
                                      "parameters": {"max_new_tokens": 6, "seed": 9}})
    assert reply.status == 200
    generation = _items(ddb, reply.request_id)["GENERATION"]
    assert generation["route"] == "generate" and generation["model"] == "falcon-7b-instruct"
    assert generation["inputs"] == "Name a bird." and generation["system"] == "Be brief."
    # Exactly what the model got: the input in Falcon's prompt format.
    assert generation["prompt"] == prompt_format("falcon").wrap("Name a bird.", system="Be brief.")
    assert [(c["id"], c["output"], c["seed"]) for c in generation["candidates"]] == [
        (c["id"], c["output"], c["seed"]) for c in reply.body["candidates"]]
    assert generation["parameters"] == {"max_new_tokens": 6, "seed": 9}
    expected = (datetime.now(timezone.utc) + timedelta(days=30)).timestamp()
    assert abs(generation["expires_at"] - expected) < 120


def test_template_generations_keep_their_variables(api, ddb):
    reply = api.post("/v1/templates/recipe", {"variables": {"dish": "pad thai"}})
    generation = _items(ddb, reply.request_id)["GENERATION"]
    assert (generation["template"], generation["inputs"]) == ("recipe", "What is the recipe for pad thai?")
    assert generation["variables"] == {"dish": "pad thai"}
    assert [c["id"] for c in generation["candidates"]] == ["c0"]  # one output, one id


def test_feedback_is_checked_against_the_stored_candidates(api, ddb):
    rid = api.post("/v1/generate", {"inputs": "Name a lake.", "candidates": 3}).request_id
    ok = api.post("/v1/feedback", {"request_id": rid, "ranking": ["c2", 0, "c1"], "comment": "c2 is best"})
    assert ok.status == 201, ok.body
    [feedback] = [v for k, v in _items(ddb, rid).items() if k.startswith("FEEDBACK#")]
    assert feedback["ranked_ids"] == ["c2", "c0", "c1"] and feedback["ranking"] == ["c2", "0", "c1"]
    assert feedback["model"] == "falcon-7b-instruct" and feedback["expires_at"] > time.time() + 29 * 86400
    for body, where in [({"ranking": ["c0", "c9"]}, "no candidate 'c9'"), ({"ranking": [0, 3]}, "index 3"),
                        ({"ranking": [0, "c0"]}, "twice"), ({"rating": 4, "candidate_id": "c7"}, "no candidate")]:
        reply = api.post("/v1/feedback", {"request_id": rid, **body})
        assert reply.status == 422 and reply.body["error"] == "bad_request" and where in reply.body["message"], body
    # candidate_id names the rated output; a ranking names its own (the schema's `not`).
    assert api.post("/v1/feedback", {"request_id": rid, "rating": 5, "candidate_id": "c1"}).status == 201
    assert api.post("/v1/feedback", {"request_id": rid, "ranking": [0, 1], "candidate_id": "c1"}).status == 400


def test_candidates_ranked_feedback_export_end_to_end(api, stack, tmp_path):
    since = datetime.now(timezone.utc)  # only what this test makes (the stack is shared)
    ranked = api.post("/v1/templates/short-story", {"candidates": 3, "parameters": {"max_new_tokens": 12}})
    assert ranked.status == 200, ranked.body
    outputs = {c["id"]: c["output"] for c in ranked.body["candidates"]}
    assert api.post("/v1/feedback", {"request_id": ranked.request_id, "ranking": ["c1", "c2", "c0"]}).status == 201
    rated = api.post("/v1/generate", {"inputs": "Write a haiku about rain.", "candidates": 2,
                                      "parameters": {"max_new_tokens": 10, "temperature": 0.9}})
    for cid, stars in (("c0", 2), ("c1", 5)):
        assert api.post("/v1/feedback", {"request_id": rated.request_id, "rating": stars,
                                         "candidate_id": cid}).status == 201
    api.post("/v1/generate", {"inputs": "No feedback on this one.", "candidates": 2})

    host, port = stack.moto.get_host_and_port()
    args = ["--table", FEEDBACK_TABLE, "--endpoint-url", f"http://{host}:{port}", "--region", "us-east-1",
            "--since", since.isoformat(), "--model", "falcon-7b-instruct", "--page-size", "10",
            "--preferences", str(tmp_path / "preferences.jsonl"), "--instructions-dir", str(tmp_path / "sft")]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "local")
        env.setenv("AWS_SECRET_ACCESS_KEY", "local")
        assert export_feedback.main(args) == 0

    story_prompt = "Write a short story about a dog running down the street."
    prefs = validate_preferences(tmp_path / "preferences.jsonl")
    # The ranking c1 > c2 > c0 is three ordered pairs, with the prompt the model got.
    for better, worse in (("c1", "c2"), ("c1", "c0"), ("c2", "c0")):
        assert {"prompt": story_prompt, "chosen": outputs[better], "rejected": outputs[worse]} in prefs
    rated_outputs = {c["id"]: c["output"] for c in rated.body["candidates"]}
    assert {"prompt": "Write a haiku about rain.", "chosen": rated_outputs["c1"],
            "rejected": rated_outputs["c0"]} in prefs
    assert len(prefs) == 4
    sft = validate_instructions(tmp_path / "sft")
    assert sorted(row["response"] for row in sft) == sorted([outputs["c1"].strip(), rated_outputs["c1"].strip()])
    assert {row["instruction"] for row in sft} == {story_prompt, "Write a haiku about rain."}
