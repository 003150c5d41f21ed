"""`make serve CONFIG=config/examples/ai21-marketplace.yaml`: the local server started as the
Makefile starts it, answering /v1/generate over real HTTP through the AI21 codec, and the
emulator speaking AI21's Jurassic-2 payload."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from local.emulator.models import EndpointConfig, ai21_invoke

REPO = Path(__file__).resolve().parents[3]
CONFIG = "config/examples/ai21-marketplace.yaml"
J2 = EndpointConfig("e", "ai21-j2", max_input_length=2047, max_total_tokens=2048)


def http(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


@pytest.fixture(scope="module")
def served():
    """`python -m local.serve --config <example>` (what `make serve CONFIG=...` runs), on free ports."""
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    process = subprocess.Popen(
        [sys.executable, "-m", "local.serve", "--config", CONFIG, "--port", "0", "--no-jobs",
         "--first-token-ms", "0"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.match(r"front door on (\S+)\s+\(emulator (\S+)\); models: (.*)", line)
        assert match, f"unexpected first line {line!r}; stderr: {process.stderr.read() if process.poll() else ''}"
        yield {"front": match[1], "emulator": match[2], "models": match[3]}
    finally:
        process.send_signal(signal.SIGTERM)  # local.serve stops its stack (and moto) on SIGTERM
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_models_list_the_marketplace_package_with_its_context(served):
    assert served["models"] == "j2-ultra, falcon-7b-instruct"
    status, body = http("GET", served["front"] + "/v1/models")
    j2 = next(m for m in body["models"] if m["name"] == "j2-ultra")
    assert status == 200 and j2 == {"name": "j2-ultra", "model_id": "ai21-j2-ultra", "family": "ai21-j2",
                                    "kind": "text", "max_input_length": 2047, "max_total_tokens": 2048,
                                    "instance_type": "ml.g5.12xlarge", "instance_count": 1, "default": True}


def test_generate_goes_through_the_ai21_codec_to_a_j2_payload(served):
    http("DELETE", served["emulator"] + "/_emulator/calls")
    status, body = http("POST", served["front"] + "/v1/generate", {
        "inputs": "Write a haiku about the sea.",
        "parameters": {"max_new_tokens": 12, "temperature": 0.5, "top_p": 0.9, "stop": ["###"]}})
    assert status == 200, body
    assert body["model"] == "j2-ultra" and body["output"].strip()
    _, calls = http("GET", served["emulator"] + "/_emulator/calls")
    [call] = calls["calls"] if isinstance(calls, dict) else calls
    assert call["endpoint"] == "local-j2-ultra"
    assert call["body"] == {"prompt": "Write a haiku about the sea.", "maxTokens": 12, "numResults": 1,
                            "temperature": 0.5, "topP": 0.9, "stopSequences": ["###"]}


def test_the_instances_context_bounds_max_new_tokens(served):
    status, body = http("POST", served["front"] + "/v1/generate", {
        "model": "j2-ultra", "inputs": "hi", "parameters": {"max_new_tokens": 4000}})
    assert status == 422 and body["error"] == "bad_request" and "max_total_tokens 2048" in body["message"]


# -- the emulator's J2 semantics ----------------------------------------------------


def j2(**payload) -> dict:
    raw, _ = ai21_invoke(J2, json.dumps({"prompt": "Tell me a story about a dog.", **payload}).encode())
    return json.loads(raw)


def test_j2_response_shape_and_num_results():
    body = j2(maxTokens=10, temperature=0.8, numResults=3)
    assert len(body["completions"]) == 3
    for c in body["completions"]:
        assert set(c) == {"data", "finishReason"} and isinstance(c["data"]["text"], str)
        assert c["finishReason"] == {"reason": "length"} and c["data"]["tokens"]
    assert len({c["data"]["text"] for c in body["completions"]}) == 3  # sampled: each differs


def test_j2_greedy_answers_the_same_text_every_time():
    texts = {c["data"]["text"] for c in j2(maxTokens=10, temperature=0, numResults=3)["completions"]}
    assert len(texts) == 1


def test_j2_stop_sequence_is_left_out_and_named():
    full = j2(maxTokens=12, temperature=0)["completions"][0]["data"]["text"]
    stop = full.split()[2]
    [c] = j2(maxTokens=12, temperature=0, stopSequences=[stop])["completions"]
    assert c["finishReason"] == {"reason": "stop", "sequence": stop}
    assert c["data"]["text"] == full[: full.index(stop)]


@pytest.mark.parametrize(("payload", "status", "detail"), [
    ({"topP": 1.5}, 400, "topP must be a number >= 0 and <= 1, got 1.5"),
    ({"numResults": 0}, 400, "numResults must be a number >= 1, got 0"),
    ({"temperature": "hot"}, 400, "temperature must be a number >= 0, got 'hot'"),
    ({"stopSequences": "###"}, 400, "stopSequences must be a list of strings"),
    ({"maxTokens": 2045}, 422, "Prompt length plus maxTokens exceeds 2048"),
])
def test_j2_refusals(payload, status, detail):
    with pytest.raises(Exception) as err:
        j2(**payload)
    assert (err.value.status, json.loads(err.value.body)["detail"]) == (status, detail)
