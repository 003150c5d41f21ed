"""Pure services: parameters, labels, payload adapters, catalog, error mapping, retries."""

from __future__ import annotations

import json

import pytest

from inference.runtime import SageMakerRuntime, map_model_error
from inference.errors import (
    BadRequest,
    ConfigError,
    ModelFailed,
    ModelInputRejected,
    ModelNotReady,
    NotFound,
    Throttled,
)
from inference.catalog import Catalog, ModelSpec
from frontdoor.services.feedback import build_record
from frontdoor.services.generation import TextService
from frontdoor.services.labels import normalize_label
from inference.params import check_image_size, resolve_text_params
from inference.codecs import (
    ImageParams,
    StableDiffusionCodec,
    WireRequest,
    text_codec,
)
from frontdoor.services.templating import TemplateRegistry
from inference.prompts import strip_stops


def spec(family="falcon", max_input=1024, max_total=2048, name="m", kind="text", default=True):
    return ModelSpec(name, "id", f"ep-{name}", family, kind, max_input, max_total, None, None, default)


# -- parameters
def test_max_new_tokens_over_budget_is_400_naming_the_budget():
    with pytest.raises(BadRequest, match="leaves 1948") as err:
        resolve_text_params(spec(), "x" * 400, {"max_new_tokens": 2000})
    assert err.value.details[0]["max"] == 1948


def test_template_default_max_new_tokens_is_clamped_not_refused():
    params = resolve_text_params(spec(max_input=100, max_total=200), "x" * 400, {}, {"max_new_tokens": 400})
    assert params.max_new_tokens == 100


def test_clearly_too_long_input_is_left_for_the_model_to_refuse():
    params = resolve_text_params(spec(), "word " * 1000, {"max_new_tokens": 50})
    assert params.input_tokens_estimate == 1250 and params.max_new_tokens == 50


def test_more_than_four_stops_is_400():
    with pytest.raises(BadRequest, match="at most 4"):
        resolve_text_params(spec(), "hi", {"stop": list("abcde")})


def test_temperature_zero_means_greedy_on_tgi():
    params = resolve_text_params(spec(), "hi", {"temperature": 0})
    assert "temperature" not in params.options and params.options["do_sample"] is False


def test_unsupported_knob_is_400_from_request_but_dropped_from_template_defaults():
    j2 = spec("ai21-j2", 8000, 8191)
    with pytest.raises(BadRequest, match="top_k"):
        resolve_text_params(j2, "hi", {"top_k": 5})
    assert resolve_text_params(j2, "hi", {}, {"top_k": 5, "temperature": 0.5}).options == {"temperature": 0.5}
    with pytest.raises(BadRequest, match="0..1"):
        resolve_text_params(j2, "hi", {"temperature": 1.5})


@pytest.mark.parametrize(("w", "h", "ok"), [(512, 512, True), (256, 1024, True), (500, 512, False),
                                             (248, 512, False), (1032, 512, False)])
def test_image_sides_are_multiples_of_8_within_bounds(w, h, ok):
    if ok:
        check_image_size(w, h)
    else:
        with pytest.raises(BadRequest):
            check_image_size(w, h)


# -- labels and stops
@pytest.mark.parametrize(("output", "label"), [
    (" Positive\n", "positive"), (" negative.", "negative"), ("Sentiment: Neutral", "neutral"),
    (" I think it is positive", "positive"), (" banana", "unknown"), ("", "unknown"),
])
def test_label_normalization(output, label):
    assert normalize_label(output, ["positive", "negative", "neutral"]) == label


def test_stop_strings_are_cut_at_the_earliest():
    assert strip_stops(" Positive\n###\nTweet", ["###", "\n"]) == (" Positive", True)
    assert strip_stops("no stop here", ["###"]) == ("no stop here", False)


# -- payload adapters
def test_tgi_payload_and_response():
    params = resolve_text_params(spec(), "hello", {"max_new_tokens": 5, "stop": ["\n"], "seed": 3})
    request = text_codec("falcon").build("hello", params)
    assert json.loads(request.body) == {"inputs": "hello", "parameters": {
        "max_new_tokens": 5, "seed": 3, "stop": ["\n"], "return_full_text": False, "details": True}}
    generation = text_codec("falcon").parse(
        b'[{"generated_text": " hi", "details": {"finish_reason": "length", "generated_tokens": 5}}]')
    assert (generation.text, generation.generated_tokens, generation.finish_reason) == (" hi", 5, "length")
    with pytest.raises(ModelFailed):
        text_codec("falcon").parse(b'{"unexpected": 1}')


def test_ai21_payload_and_response():
    params = resolve_text_params(spec("ai21-j2", 8000, 8191), "hello", {"max_new_tokens": 7, "temperature": 0.3,
                                                                        "stop": ["##"]})
    assert json.loads(text_codec("ai21-j2").build("hello", params).body) == {
        "prompt": "hello", "maxTokens": 7, "numResults": 1, "temperature": 0.3, "stopSequences": ["##"]}
    raw = json.dumps({"completions": [{"data": {"text": " ok", "tokens": [{}, {}]},
                                       "finishReason": {"reason": "stop"}}]}).encode()
    assert text_codec("ai21-j2").parse(raw).text == " ok"


def test_stable_diffusion_payload_asks_for_jpeg():
    request = StableDiffusionCodec().build(ImageParams("cat", 512, 256, 30, 7.5, 2, "dog", 9))
    assert request.accept == "application/json;jpeg"
    assert json.loads(request.body) == {"prompt": "cat", "width": 512, "height": 256, "num_inference_steps": 30,
                                        "guidance_scale": 7.5, "num_images_per_prompt": 2,
                                        "negative_prompt": "dog", "seed": 9}


# -- catalog
def test_catalog_defaults_and_errors():
    catalog = Catalog([spec(name="a", default=False), spec(name="b", default=True),
                       spec("stable-diffusion", None, None, name="img", kind="image", default=False)])
    assert catalog.resolve(None, "text").name == "b"
    assert catalog.resolve(None, "image").name == "img"  # the only image model
    with pytest.raises(NotFound):
        catalog.resolve("zzz", "text")
    with pytest.raises(BadRequest, match="image model"):
        catalog.resolve("img", "text")


@pytest.mark.parametrize(("raw", "message"), [
    ("not json", "not valid JSON"), ("{}", "must be a JSON list"),
    ('[{"name":"a","model_id":"x","endpoint_name":"e","family":"gpt","kind":"text"}]', "family 'gpt'"),
    ('[{"name":"a","model_id":"x","endpoint_name":"e","family":"falcon","kind":"image"}]', "kind must be 'text'"),
    ('[{"name":"a","model_id":"x","endpoint_name":"e","family":"falcon","kind":"text"}]', "need max_input_length"),
])
def test_models_json_errors_fail_cold_start(raw, message):
    with pytest.raises(ConfigError, match=message):
        Catalog.from_json(raw)


# -- whole text flow with a plain fake invoker (no AWS, no mocks)
class EchoInvoker:
    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.sent: list[tuple[str, WireRequest]] = []
        self.components: list[str | None] = []

    def invoke(self, endpoint_name: str, request: WireRequest, inference_component: str | None = None) -> bytes:
        self.sent.append((endpoint_name, request))
        self.components.append(inference_component)
        return self.reply


def test_template_flow_sends_rendered_prompt_and_returns_a_label():
    invoker = EchoInvoker(b'[{"generated_text": " Positive\\n###"}]')
    service = TextService(Catalog([spec(name="falcon")]), TemplateRegistry.load(), invoker)
    result = service.run_template("sentiment", None, {"tweet": "great"}, {})
    endpoint, request = invoker.sent[0]
    body = json.loads(request.body)
    assert endpoint == "ep-falcon"
    assert body["inputs"].endswith('Tweet: "great"\nSentiment:')
    assert body["parameters"]["stop"] == ["###", "\n"]
    assert (result.output, result.label, result.finish_reason) == (" Positive", "positive", "stop_sequence")


# -- SageMaker error mapping and retries
def test_model_422_maps_to_422_with_tgi_message():
    tgi = '{"error":"Input validation error: `inputs` must have less than 1024 tokens. Given: 1100","error_type":"validation"}'
    err = map_model_error({"OriginalStatusCode": 422, "OriginalMessage": tgi})
    assert isinstance(err, ModelInputRejected)
    assert err.message == "Input validation error: `inputs` must have less than 1024 tokens. Given: 1100"


def test_model_error_message_is_parsed_when_original_fields_are_absent():
    message = ('Received client error (422) from primary with message "{"error":"too long","error_type":'
               '"validation"}". See https://x in account 1 for more information.')
    err = map_model_error({"Error": {"Code": "ModelError", "Message": message}})
    assert isinstance(err, ModelInputRejected) and err.message == "too long"
    assert isinstance(map_model_error({"OriginalStatusCode": 500, "OriginalMessage": "CUDA"}), ModelFailed)


class ScriptedClient:
    """Raises the scripted botocore errors in order, then answers."""

    def __init__(self, codes: list[str]) -> None:
        self.codes = list(codes)
        self.calls = 0

    def invoke_endpoint(self, **kwargs):
        from botocore.exceptions import ClientError

        self.calls += 1
        if self.codes:
            code = self.codes.pop(0)
            raise ClientError({"Error": {"Code": code, "Message": code}}, "InvokeEndpoint")

        class Body:
            def read(self):
                return b"ok"

        return {"Body": Body()}


def test_throttling_is_retried_with_full_jitter_then_succeeds():
    sleeps: list[float] = []
    client = ScriptedClient(["ThrottlingException", "ThrottlingException"])
    invoker = SageMakerRuntime(client, sleep=sleeps.append, rand=lambda: 1.0)
    assert invoker.invoke("ep", WireRequest(b"{}")) == b"ok"
    assert client.calls == 3
    assert sleeps == [0.1, 0.2]  # rand()=1 shows the caps: base * 2^(n-1)


def test_throttling_beyond_the_attempt_budget_is_429_with_retry_after():
    client = ScriptedClient(["ThrottlingException"] * 5)
    invoker = SageMakerRuntime(client, sleep=lambda s: None, rand=lambda: 0.5)
    with pytest.raises(Throttled) as err:
        invoker.invoke("ep", WireRequest(b"{}"))
    assert client.calls == 3 and err.value.retry_after == 1


def test_model_not_ready_is_not_retried():
    client = ScriptedClient(["ModelNotReadyException"])
    with pytest.raises(ModelNotReady):
        SageMakerRuntime(client, sleep=lambda s: None).invoke("ep", WireRequest(b"{}"))
    assert client.calls == 1


# -- feedback record
def test_feedback_record_keys():
    from datetime import datetime, timezone

    record = build_record("req-1", None, [2, "b"], "x" * 3000, now=datetime(2026, 1, 2, tzinfo=timezone.utc),
                          feedback_id="f1")
    assert record["pk"] == "REQUEST#req-1"
    assert record["sk"] == "FEEDBACK#2026-01-02T00:00:00.000000Z#f1"
    assert record["ranking"] == ["2", "b"] and len(record["comment"]) == 2000
