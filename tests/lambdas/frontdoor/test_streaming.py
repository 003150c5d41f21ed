"""Token streaming end to end (issue 12): the SageMaker emulator's
InvokeEndpointWithResponseStream read by boto3's own event-stream parser, the runtime
client's retries and error mapping, and both streaming routes over real HTTP through the
local API Gateway stand-in and the streaming function's web server.

Sources for what is emulated and asserted:
- SageMaker API Reference, "InvokeEndpointWithResponseStream" (POST
  /endpoints/{name}/invocations-response-stream) and "ResponseStream" (PayloadPart,
  ModelStreamError with ModelInvocationTimeExceeded | StreamBroken, InternalStreamFailure).
- The AWS event stream encoding as botocore parses it (``botocore.eventstream``: prelude,
  headers, payload, CRC32s).
- text-generation-inference ``router/src/server.rs`` ``generate_stream`` (``data:`` lines,
  ``generated_text`` and ``details`` on the last one, ``{"error", "error_type"}`` events).
- API Gateway Developer Guide, "Stream the integration response for your proxy
  integrations in API Gateway" (the deployed path the local server stands in for).
"""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import EventStreamError

from frontdoor import stream_server
from frontdoor.services.templating import TEMPLATE_NAME_PATTERN
from frontdoor.routes import meta
from inference.codecs import TgiCodec
from inference.errors import ModelFailed, ModelScalingUp, ModelTimeout, ModelUnavailable, Throttled
from inference.params import TextParams
from inference.runtime import SageMakerRuntime
from local.emulator.eventstream import payload_part
from tools import call_api

GENERATE = "/v1/generate/stream"


@dataclass
class Stream:
    status: int
    headers: dict[str, str]
    events: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    body: Any = None
    started: float = 0.0

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [data for event, data, _ in self.events if event == kind]

    @property
    def text(self) -> str:
        return "".join(t["text"] for t in self.of("token"))

    @property
    def done(self) -> dict[str, Any]:
        [done] = self.of("done")
        return done


def post_stream(base: str, path: str, body: Any = None, *, raw: bytes | None = None,
                content_type: str = "application/json", headers: dict[str, str] | None = None) -> Stream:
    """POST and read the answer as it arrives: SSE events with their arrival times, or JSON."""
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method="POST",
                                     headers={"Content-Type": content_type, **(headers or {})})
    started = time.perf_counter()
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as err:
        payload = err.read()
        return Stream(err.code, {k.lower(): v for k, v in err.headers.items()},
                      body=json.loads(payload) if payload else None, started=started)
    reply = Stream(response.status, {k.lower(): v for k, v in response.headers.items()}, started=started)
    if response.headers.get_content_type() != "text/event-stream":
        reply.body = json.loads(response.read())
        return reply
    for event, data in call_api.read_events(response):
        reply.events.append((event, data, time.perf_counter() - started))
    response.close()
    return reply


def buffered(api, path: str, body: dict[str, Any]):
    return api.post(path.removesuffix("/stream"), body)


# -- the emulator's wire format, read by boto3 ------------------------------------------


@pytest.fixture(scope="module")
def runtime_client(stack):
    from botocore.config import Config

    # botocore's own retries off, as inference.runtime builds its client: one retry policy.
    return boto3.client("sagemaker-runtime", endpoint_url=stack.emulator.url, region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local",
                        config=Config(retries={"total_max_attempts": 1}))


def tgi_body(inputs: str, **parameters: Any) -> bytes:
    params = TextParams(max_new_tokens=parameters.pop("max_new_tokens", 40), input_tokens_estimate=1,
                        options=parameters, stop=tuple(parameters.pop("stop", ())))
    return TgiCodec("falcon").build_stream(inputs, params).body


def test_an_event_stream_message_is_what_botocore_parses_crc_included():
    message = payload_part(b'data:{"x":"\xc3\xa7"}\n')
    buffer = EventStreamBuffer()
    buffer.add_data(message[:7])
    assert list(buffer) == []  # not a whole message yet
    buffer.add_data(message[7:])
    [parsed] = list(buffer)
    assert parsed.headers == {":event-type": "PayloadPart", ":content-type": "application/octet-stream",
                              ":message-type": "event"}
    assert parsed.payload == b'data:{"x":"\xc3\xa7"}\n'
    corrupted = bytearray(message)
    corrupted[-5] ^= 1
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(corrupted))
    with pytest.raises(Exception, match="(?i)checksum|crc"):
        list(buffer)


def test_boto3_reads_payload_parts_that_cut_tgi_lines_anywhere(runtime_client, emulator):
    body = tgi_body("Tell me about the sea, ça va? " * 3, max_new_tokens=60, stop=["."])
    response = runtime_client.invoke_endpoint_with_response_stream(
        EndpointName="ep-falcon", Body=body, ContentType="application/json")
    assert response["ContentType"] == "text/event-stream"
    parts = [event["PayloadPart"]["Bytes"] for event in response["Body"]]
    data = b"".join(parts)
    lines = [json.loads(line[5:]) for line in data.split(b"\n\n") if line]
    assert any(not p.endswith(b"\n\n") for p in parts[:-1]), "some part ends inside a line"
    assert all(not line["token"]["special"] for line in lines[:-1])
    # The stream's generated_text and details are the buffered call's.
    plain = json.loads(body)
    del plain["stream"]
    [whole] = json.loads(runtime_client.invoke_endpoint(EndpointName="ep-falcon", Body=json.dumps(plain),
                                                        ContentType="application/json")["Body"].read())
    assert lines[-1]["generated_text"] == whole["generated_text"]
    assert "".join(line["token"]["text"] for line in lines if not line["token"]["special"]) == whole["generated_text"]
    assert lines[-1]["details"]["generated_tokens"] == whole["details"]["generated_tokens"]
    assert lines[-1]["details"]["finish_reason"] == whole["details"]["finish_reason"]
    assert [c.get("stream") for c in emulator.calls()] == [True, None]


@pytest.mark.parametrize("fault, code, message", [
    ("stream-error", "ModelStreamError", "stream was broken"),
    ("stream-timeout", "ModelStreamError", "allotted time"),
    ("stream-internal", "InternalStreamFailure", "Internal stream failure"),
])
def test_mid_stream_failures_are_exception_events_boto3_raises(runtime_client, fault, code, message):
    response = runtime_client.invoke_endpoint_with_response_stream(
        EndpointName="ep-falcon", Body=tgi_body(f"hi [[emulator:{fault}=3]]"), ContentType="application/json")
    parts = []
    with pytest.raises(EventStreamError) as info:
        for event in response["Body"]:
            parts.append(event["PayloadPart"]["Bytes"])
    assert info.value.response["Error"]["Code"] == code and message in info.value.response["Error"]["Message"]
    assert b"".join(parts).count(b"data:") == 3


def test_streams_of_models_on_a_shared_endpoint_name_their_inference_component(runtime_client, emulator):
    response = runtime_client.invoke_endpoint_with_response_stream(
        EndpointName="ep-shared", InferenceComponentName="ic-mistral-shared", Body=tgi_body("hi"),
        ContentType="application/json")
    assert b"generated_text" in b"".join(e["PayloadPart"]["Bytes"] for e in response["Body"])
    assert emulator.calls()[-1]["inference_component"] == "ic-mistral-shared"
    with pytest.raises(Exception, match="Inference Component Name header is required"):
        runtime_client.invoke_endpoint_with_response_stream(EndpointName="ep-shared", Body=tgi_body("hi"),
                                                            ContentType="application/json")


# -- the runtime client ------------------------------------------------------------------


@pytest.fixture(scope="module")
def runtime(runtime_client, models):
    from inference.catalog import Catalog

    return SageMakerRuntime.for_models(Catalog.from_json(json.dumps(models)).models, client=runtime_client,
                                       sleep=lambda s: None)


def test_invoke_stream_retries_before_the_first_byte_as_invoke_does(runtime, emulator):
    emulator.inject("ep-falcon", throttle_next=2)
    parts = list(runtime.invoke_stream("ep-falcon", TgiCodec("falcon").build_stream("hi", TextParams(5, 1))))
    assert runtime.last_attempts == 3 and b"generated_text" in b"".join(parts)
    emulator.inject("ep-falcon", throttle_next=3)
    with pytest.raises(Throttled):
        runtime.invoke_stream("ep-falcon", TgiCodec("falcon").build_stream("hi", TextParams(5, 1)))


def test_invoke_stream_maps_missing_and_scaled_to_zero_models_like_invoke(runtime, emulator):
    request = TgiCodec("falcon").build_stream("hi", TextParams(5, 1))
    with pytest.raises(ModelUnavailable, match="model ghost is not available"):
        runtime.invoke_stream("ep-ghost", request)
    emulator.scale("ic-falcon-shared", 0, scale_out_after_s=None)
    with pytest.raises(ModelScalingUp):
        runtime.invoke_stream("ep-shared", request, "ic-falcon-shared")


@pytest.mark.parametrize("fault, error", [
    ("stream-error", ModelFailed), ("stream-internal", ModelFailed), ("stream-timeout", ModelTimeout)])
def test_failures_after_the_first_part_come_out_of_the_iteration(runtime, fault, error):
    parts = runtime.invoke_stream("ep-falcon", TgiCodec("falcon").build_stream(
        f"hi [[emulator:{fault}=2]]", TextParams(20, 1)))
    received = []
    with pytest.raises(error):
        for part in parts:
            received.append(part)
    assert received  # the model had started


# -- the routes over HTTP --------------------------------------------------------------------


@pytest.fixture
def slow_falcon(stack, emulator):
    """ep-falcon as a g5 7B would answer, scaled down: first token 150 ms, then 25 ms each."""
    cfg = stack.emulator._endpoints[("ep-falcon", None)]
    saved = cfg.first_token_ms, cfg.per_token_ms
    cfg.first_token_ms, cfg.per_token_ms = 150.0, 25.0
    yield cfg
    cfg.first_token_ms, cfg.per_token_ms = saved


def test_tokens_arrive_as_they_are_generated_not_at_the_end(stack, slow_falcon):
    reply = post_stream(stack.url, GENERATE, {"inputs": "Write a story.", "parameters": {"max_new_tokens": 24}})
    assert reply.status == 200 and reply.headers["content-type"] == "text/event-stream"
    times = [t for event, _, t in reply.events if event == "token"]
    assert len(times) == 24
    assert times[0] < 0.15 + 0.5  # the first token's time, not the whole answer's
    assert times[-1] - times[0] > 0.6 * 23 * 0.025  # spread as the model produced them
    assert reply.events[-1][0] == "done" and reply.done["usage"]["generated_tokens"] == 24


@pytest.mark.parametrize("model", ["falcon-7b-instruct", "llama-2-7b-chat", "mistral-7b-instruct", "flan-t5-xl",
                                   "mistral-shared"])
@pytest.mark.parametrize("parameters", [
    {"max_new_tokens": 40, "seed": 11, "do_sample": True, "temperature": 0.7},
    {"max_new_tokens": 60, "seed": 3, "stop": [".", "\nUser:"]},
    {"max_new_tokens": 5},
])
def test_the_streamed_answer_equals_the_buffered_one(stack, api, model, parameters):
    body = {"model": model, "inputs": "Tell me about Paris. Then stop.", "system": "Be brief.",
            "parameters": parameters}
    reply, whole = post_stream(stack.url, GENERATE, body), buffered(api, GENERATE, body)
    assert reply.status == whole.status == 200
    done = reply.done
    assert reply.text == done["text"] == whole.body["output"]
    assert done["finish_reason"] == whole.body["finish_reason"] and done["model"] == whole.body["model"]
    assert {k: v for k, v in done["usage"].items() if k != "input_tokens"} == whole.body["usage"]
    assert isinstance(done["usage"]["input_tokens"], int)
    assert reply.headers["x-request-id"]


def test_stop_strings_are_cut_as_the_buffered_route_cuts_them(stack, api):
    body = {"inputs": "Few shot:\nQ: a\nA: b\n###\nQ: c\nA:", "parameters": {"max_new_tokens": 30, "stop": ["###"]}}
    reply, whole = post_stream(stack.url, GENERATE, body), buffered(api, GENERATE, body)
    assert "#" not in reply.text and reply.text == whole.body["output"]
    assert reply.done["finish_reason"] == "stop_sequence" == whole.body["finish_reason"]


@pytest.mark.parametrize("name, variables", [
    ("sentiment", {"tweet": "This new music video was incredible"}),
    ("classify", {"text": "Stocks fell 3% today.", "categories": "finance, sports, weather"}),
    ("code", {}),
    ("haiku", {"topic": "rivers"}),  # an operator's template
])
def test_template_streams_end_with_the_buffered_output_and_label(stack, api, name, variables):
    path = f"/v1/templates/{name}/stream"
    reply, whole = post_stream(stack.url, path, {"variables": variables}), buffered(api, path, {"variables": variables})
    assert reply.status == 200 and reply.done["text"] == whole.body["output"]
    assert reply.done["template"] == name and reply.done["label"] == whole.body["label"]


BAD_BODIES = [
    (b'{"inputs": 42}', "application/json"),
    (b'{"inputs": "hi", "parameters": {"top_k": "5", "zz": 1}}', "application/json"),
    (b'{"inputs": "hi", "parameters": {"max_new_tokens": true}}', "application/json"),
    (b'{"parameters": {}}', "application/json"),
    (b'{"inputs": "hi",', "application/json"),
    (b"", "application/json"),
    (b"null", "application/json"),
    (b"[]", "application/json"),
    (b"\x86\xff{}", "application/json"),
    (b'{"inputs": "hi"}', "text/plain"),
    (b'{"inputs": "' + b"x" * 300_000 + b'"}', "application/json"),
    (b'{"inputs": "hi", "parameters": {"max_new_tokens": 4000}}', "application/json"),
    (b'{"model": "nope", "inputs": "hi"}', "application/json"),
    (b'{"model": "sd-2-1-base", "inputs": "hi"}', "application/json"),
    (b'{"model": "llama-2-7b-chat", "inputs": "[INST] hi"}', "application/json"),
    (b'{"inputs": "' + b"word " * 1100 + b'"}', "application/json"),  # TGI's own 422, streamed by TGI
]


@pytest.mark.parametrize("raw, content_type", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_invalid_requests_are_json_errors_before_the_first_byte_as_on_the_buffered_route(
        stack, api, emulator, raw, content_type):
    reply = post_stream(stack.url, GENERATE, raw=raw, content_type=content_type)
    whole = api.post("/v1/generate", raw=raw, content_type=content_type)
    assert reply.status == whole.status and 400 <= reply.status < 500
    assert reply.headers["content-type"] == "application/json" and not reply.events
    same = {k: v for k, v in reply.body.items() if k != "request_id"}
    same["message"] = same["message"].replace(GENERATE, "/v1/generate")  # the 413 names the route
    assert same == {k: v for k, v in whole.body.items() if k != "request_id"}
    assert reply.body["request_id"] == reply.headers["x-request-id"]


@pytest.mark.parametrize("path, body, status", [
    ("/v1/templates/nope/stream", {}, 404),
    ("/v1/templates/a%20b/stream", {}, 400),
    ("/v1/templates/" + "a" * 70 + "/stream", {"variables": 5}, 400),
    ("/v1/templates/sentiment/stream", {"variables": {"nope": "x"}}, 422),
])
def test_template_path_and_body_errors_match_the_buffered_route(stack, api, path, body, status):
    reply, whole = post_stream(stack.url, path, body), buffered(api, path, body)
    assert reply.status == whole.status == status
    assert {k: v for k, v in reply.body.items() if k != "request_id"} == \
        {k: v for k, v in whole.body.items() if k != "request_id"}


def test_only_the_streaming_routes_own_refusals_are_new(stack, emulator):
    reply = post_stream(stack.url, GENERATE, {"model": "j2-mid", "inputs": "hi"})
    assert reply.status == 422 and reply.body["error"] == "bad_request"
    assert reply.body["details"] == [{"field": "model", "type": "not_streamable"}]
    # One answer per stream: the document says candidates <= 1 (GenerateStreamRequest), so more is a 400.
    for path, body in ((GENERATE, {"inputs": "hi", "candidates": 2}), ("/v1/templates/code/stream", {"candidates": 3})):
        reply = post_stream(stack.url, path, body)
        assert reply.status == 400 and reply.body["error"] == "validation_error"
        assert [d["loc"] for d in reply.body["details"]] == [["body", "candidates"]], reply.body
    assert post_stream(stack.url, GENERATE, {"inputs": "hi", "candidates": 1}).status == 200
    assert len(emulator.calls()) == 1  # the refusals never reached the model


def test_model_errors_before_the_first_token_are_the_buffered_routes_answers(stack, emulator):
    emulator.inject("ep-falcon", throttle_next=10)
    reply = post_stream(stack.url, GENERATE, {"inputs": "hi"})
    assert reply.status == 429 and reply.body["error"] == "throttled" and reply.headers["retry-after"] == "1"
    emulator.reset()
    emulator.inject("ep-falcon", not_ready_next=1)
    reply = post_stream(stack.url, GENERATE, {"inputs": "hi"})
    assert reply.status == 503 and reply.body["error"] == "model_not_ready" and reply.headers["retry-after"] == "30"
    reply = post_stream(stack.url, GENERATE, {"inputs": "hi [[emulator:generation-error=0]]"})
    assert reply.status == 502 and reply.body["error"] == "model_error"


@pytest.mark.parametrize("fault, code, status", [
    ("stream-error", "model_error", 502), ("generation-error", "model_error", 502),
    ("stream-internal", "model_error", 502), ("stream-timeout", "model_timeout", 504)])
def test_a_model_failing_mid_stream_ends_it_with_an_error_event(stack, fault, code, status):
    reply = post_stream(stack.url, GENERATE, {"inputs": f"hi [[emulator:{fault}=4]]",
                                              "parameters": {"max_new_tokens": 30}})
    assert reply.status == 200
    kinds = [event for event, _, _ in reply.events]
    assert kinds[:4] == ["token"] * 4 and kinds[-1] == "error" and "done" not in kinds
    error = reply.of("error")[0]
    assert error["error"] == code and error["status"] == status
    assert error["request_id"] == reply.headers["x-request-id"]
    assert "CUDA" not in error["message"] and "ep-falcon" not in error["message"]


def test_a_stream_past_the_function_deadline_ends_with_model_timeout(stack, slow_falcon, monkeypatch):
    monkeypatch.setattr(stream_server, "FUNCTION_TIMEOUT_S", stream_server.DEADLINE_MARGIN_S + 0.4)
    monkeypatch.setattr("local.gateway_server.STREAM_FUNCTION_TIMEOUT_S", stream_server.DEADLINE_MARGIN_S + 0.4)
    reply = post_stream(stack.url, GENERATE, {"inputs": "long story", "parameters": {"max_new_tokens": 60}})
    assert reply.status == 200 and reply.of("token") and reply.of("error")[0]["error"] == "model_timeout"


def test_the_gateway_requires_sigv4_on_the_streaming_methods_too(stack, monkeypatch, capsys):
    gateway = stack.front(auth="iam")
    assert post_stream(gateway.url, GENERATE, {"inputs": "hi"}).status == 403
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    code = call_api.main(["--url", gateway.url, "--region", "us-east-1", "--stream", "POST", GENERATE,
                          json.dumps({"inputs": "hi", "parameters": {"max_new_tokens": 8}})])
    out, err = capsys.readouterr()
    assert code == 0 and out.strip() and '"finish_reason": "length"' in err


def test_call_api_prints_tokens_as_they_arrive_and_fails_on_an_error_event():
    class Slow(io.BytesIO):
        pass

    events = (b"event: token\ndata: {\"text\":\" Hel\",\"index\":0}\n\n"
              b"event: token\ndata: {\"text\":\"lo\",\"index\":1}\n\n"
              b"event: error\ndata: {\"error\":\"model_error\",\"message\":\"m\",\"request_id\":\"r\",\"status\":502}\n\n")
    out, err = io.StringIO(), io.StringIO()
    assert call_api.print_stream(Slow(events), out, err) == 1
    assert out.getvalue() == " Hello\n" and '"model_error"' in err.getvalue()


def test_the_buffered_resolver_answers_the_same_events_in_one_body(stack, api):
    """Deployed, API Gateway sends these methods to the streaming function; the resolver's
    own routes (the document's source) answer the same events, buffered."""
    from local.gateway import to_event
    from local.lambda_runtime import LocalContext

    body = {"inputs": "Tell me about Paris.", "parameters": {"max_new_tokens": 20, "seed": 4}}
    event = to_event("POST", GENERATE, [("Content-Type", "application/json")], json.dumps(body).encode())
    with stack.server.invoke_lock:
        answer = stack.server.lambda_handler(event, LocalContext())
    assert answer["statusCode"] == 200
    assert answer["multiValueHeaders"]["Content-Type"] == ["text/event-stream"]
    events = list(call_api.read_events(io.BytesIO(answer["body"].encode())))
    streamed = post_stream(stack.url, GENERATE, body)
    assert [e for e, _ in events] == [e for e, _, _ in streamed.events]
    assert events[-1][1]["text"] == streamed.done["text"]


# -- the contract ---------------------------------------------------------------------------


def test_the_document_lists_both_routes_with_event_streams_and_their_twins_errors():
    document = json.loads(meta.DOCUMENT.read_text("utf-8"))
    for stream, twin in ((GENERATE, "/v1/generate"), ("/v1/templates/{name}/stream", "/v1/templates/{name}")):
        op, buffered_op = document["paths"][stream]["post"], document["paths"][twin]["post"]
        assert list(op["responses"]["200"]["content"]) == ["text/event-stream"]
        assert set(op["responses"]) == set(buffered_op["responses"])
        # The twin's body but for candidates: 1 at most (one stream is one answer).
        schemas = document["components"]["schemas"]
        body, buffered_body = (schemas[o["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/")[-1]]
                               for o in (op, buffered_op))
        assert set(body["properties"]) == set(buffered_body["properties"])
        assert {k: v for k, v in body["properties"].items() if k != "candidates"} == \
            {k: v for k, v in buffered_body["properties"].items() if k != "candidates"}
        assert body["properties"]["candidates"]["anyOf"][0]["maximum"] == 1
        assert op.get("parameters") == buffered_op.get("parameters")
    name = document["paths"]["/v1/templates/{name}/stream"]["post"]["parameters"][0]["schema"]
    assert name["pattern"] == TEMPLATE_NAME_PATTERN and (name["minLength"], name["maxLength"]) == (1, 64)


def test_every_event_is_what_the_document_says(stack):
    """The event payloads validate against the models the document's event schemas come from
    (the schemathesis fuzz checks the same against the served document)."""
    from frontdoor.models.streams import StreamDone, StreamError, StreamToken

    models = {"token": StreamToken, "done": StreamDone, "error": StreamError}
    replies = [post_stream(stack.url, "/v1/templates/sentiment/stream", {"variables": {"tweet": "great"}}),
               post_stream(stack.url, GENERATE, {"inputs": "hi [[emulator:stream-error=2]]"})]
    kinds = set()
    for reply in replies:
        for event, data, _ in reply.events:
            models[event].model_validate(data, strict=True)
            kinds.add(event)
    assert kinds == {"token", "done", "error"}


def test_the_streaming_server_answers_its_readiness_check(stack):
    with urllib.request.urlopen(stack.stream_server.url + stream_server.HEALTH_PATH, timeout=5) as response:
        assert response.status == 200


def test_the_startup_script_is_executable_and_runs_the_server():
    """The Web Adapter's layer bootstrap execs ``$LAMBDA_TASK_ROOT/$_HANDLER`` (its
    ``layer/bootstrap``): the handler must be an executable script in the asset."""
    import os
    from pathlib import Path

    script = Path(stream_server.__file__).with_name("stream.sh")
    text = script.read_text()
    assert os.access(script, os.X_OK) and text.startswith("#!/bin/bash\n") and "\r" not in text
    assert "python3 -m frontdoor.stream_server" in text
