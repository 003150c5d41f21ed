"""The emulator's TGI semantics, the local server's config path and the SigV4 client."""

from __future__ import annotations

import json

import pytest

from local.deployment import models_from_config
from local.emulator.generation import count_tokens, generate_text
from local.emulator.jpeg import solid_jpeg
from local.emulator.models import EndpointConfig, tgi_invoke
from local.gateway import to_event

FALCON = EndpointConfig("e", "falcon", max_input_length=1024, max_total_tokens=2048)


def tgi_error(inputs: str, **parameters) -> str:
    with pytest.raises(Exception) as err:
        tgi_invoke(FALCON, json.dumps({"inputs": inputs, "parameters": parameters}).encode())
    assert err.value.status == 422
    return json.loads(err.value.body)["error"]


def test_token_counter_is_its_own():
    # Long words cost extra, digit runs one per three digits: not chars/4.
    assert count_tokens("word") == 1
    assert count_tokens("internationalization") == 4
    assert count_tokens("12345, ok!") == 5
    assert count_tokens("a" * 40) == 7


@pytest.mark.parametrize(("inputs", "parameters", "message"), [
    ("word " * 1900, {"max_new_tokens": 200}, "Input validation error: `inputs` tokens + `max_new_tokens` must be "
                                              "<= 2048. Given: 1900 `inputs` tokens and 200 `max_new_tokens`"),
    ("word " * 1100, {"max_new_tokens": 20}, "Input validation error: `inputs` must have less than 1024 tokens. "
                                             "Given: 1100"),
    ("hi", {"temperature": 0}, "Input validation error: `temperature` must be strictly positive"),
    ("hi", {"top_p": 1.0}, "Input validation error: `top_p` must be > 0.0 and < 1.0"),
    ("hi", {"stop": list("abcde")}, "Input validation error: `stop` supports up to 4 stop sequences. Given: 5"),
    ("", {}, "Input validation error: `inputs` cannot be empty"),
])
def test_tgi_validation_texts_are_exact(inputs, parameters, message):
    assert tgi_error(inputs, **parameters) == message


def test_generation_is_deterministic_with_exact_token_count_and_stop_left_in():
    text, tokens, finish = generate_text("prompt", 25, [])
    assert (count_tokens(text), tokens, finish) == (25, 25, "length")
    assert generate_text("prompt", 25, []) == (text, tokens, finish)
    stop = text.split()[5]
    cut, _, finish = generate_text("prompt", 25, [stop])
    assert cut.endswith(stop) and finish == "stop_sequence"


def test_jpeg_header_carries_requested_size():
    jpeg = solid_jpeg(320, 200, 90)
    sof = jpeg.index(b"\xff\xc0")
    assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    assert int.from_bytes(jpeg[sof + 5:sof + 7], "big") == 200
    assert int.from_bytes(jpeg[sof + 7:sof + 9], "big") == 320


def test_http_request_becomes_api_gateway_rest_event():
    event = to_event("POST", "/v1/templates/a%20b?x=1&x=2", [("Content-Type", "application/json")], b'{"a":1}')
    assert event["path"] == "/v1/templates/a b" and event["httpMethod"] == "POST"
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["queryStringParameters"] == {"x": "2"}
    assert event["body"] == '{"a":1}' and event["isBase64Encoded"] is False
    assert len(event["requestContext"]["requestId"]) == 36


def test_default_config_yields_models_json_for_local_run():
    stacks_lambda_env = pytest.importorskip("stacks.contract.lambda_env")
    assert stacks_lambda_env
    models = models_from_config()
    default = [m for m in models if m["default"] and m["kind"] == "text"]
    assert default and default[0]["endpoint_name"].startswith("local-")
    assert {m["family"] for m in models} <= {"falcon", "llama2", "mistral", "flan-t5", "ai21-j2", "stable-diffusion"}


def test_call_api_signs_with_sigv4(monkeypatch):
    from tools.call_api import build_request

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    request = build_request("https://abc.execute-api.eu-west-1.amazonaws.com/prod", "POST", "/v1/generate",
                            '{"inputs": "hi"}', sign=True, region=None)
    auth = request.get_header("Authorization")
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in auth
    assert request.full_url == "https://abc.execute-api.eu-west-1.amazonaws.com/prod/v1/generate"
