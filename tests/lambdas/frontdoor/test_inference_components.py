"""Models on a shared endpoint as SageMaker inference components (ICs), issue 11.

The catalog's ``inference_component``; the runtime client naming it on every call
(``InferenceComponentName``) and mapping SageMaker's "no capacity" answer of an IC at
zero copies to ``ModelScalingUp``; the emulator answering that exactly as AWS does
(through a real boto3 client); and the front door over real HTTP: 503 + Retry-After
while copies are at zero, 200 after the scale-out.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from inference import runtime as runtime_module
from inference.catalog import Catalog
from inference.codecs import WireRequest
from inference.errors import ConfigError, InvocationFailed, ModelNotReady, ModelScalingUp
from inference.runtime import SageMakerRuntime, Target, target_key
from local.emulator.api import ACCOUNT, IC_HEADER, IC_NOT_ALLOWED, IC_REQUIRED, NO_CAPACITY_MESSAGE
from local.emulator.models import EndpointConfig
from tests.lambdas.emulated import runtime_client, serve

TGI = WireRequest(json.dumps({"inputs": "Hello", "parameters": {"max_new_tokens": 4}}).encode())


def entry(name: str, endpoint: str = "ep-shared", component: str | None = None, **extra) -> dict:
    item = {"name": name, "model_id": "x", "endpoint_name": endpoint, "family": "falcon", "kind": "text",
            "max_input_length": 1024, "max_total_tokens": 2048, **extra}
    if component is not None:
        item["inference_component"] = component
    return item


# ------------------------------------------------------------------ catalog
def test_the_catalog_keeps_the_component_server_side():
    catalog = Catalog.from_json(json.dumps([entry("a", component="ic-a"), entry("b", component="ic-b"),
                                            entry("solo", endpoint="ep-solo")]))
    a = catalog.resolve("a", "text")
    assert (a.endpoint_name, a.inference_component) == ("ep-shared", "ic-a")
    assert catalog.resolve("solo", "text").inference_component is None
    assert "inference_component" not in a.public() and "endpoint_name" not in a.public()


@pytest.mark.parametrize(("models", "message"), [
    ([entry("a", component="")], r"MODELS_JSON\[0\]\.inference_component must be a non-empty string"),
    ([entry("a", component=7)], r"MODELS_JSON\[0\]\.inference_component must be a non-empty string"),
    ([entry("a", component="ic-a", wakeable=True, endpoint_config_parameter="/p")],
     r"MODELS_JSON\[0\]\.wakeable must be false for a model with an inference_component"),
    ([entry("a", component="ic-a"), entry("b")],
     r"models \['a'\] run as inference components on endpoint 'ep-shared'.*\['b'\] have none"),
    ([entry("a", component="ic-x"), entry("b", component="ic-x")],
     r"inference_component 'ic-x' is given to both 'a' and 'b'"),
])
def test_a_bad_inference_component_fails_the_cold_start_naming_the_field(models, message):
    with pytest.raises(ConfigError, match=message):
        Catalog.from_json(json.dumps(models))


# ------------------------------------------------------------------ emulator and runtime over boto3
@pytest.fixture(scope="module")
def shared():
    yield from serve(
        EndpointConfig("shared", "falcon", inference_component="ic-a"),
        EndpointConfig("shared", "mistral", inference_component="ic-b", first_token_ms=60, max_input_length=4095,
                       max_total_tokens=4096),
        EndpointConfig("solo", "falcon"),
    )


@pytest.fixture
def emu(shared):
    shared.reset()
    yield shared
    shared.reset()


@pytest.fixture
def client(shared, monkeypatch):
    return runtime_client(shared.url, monkeypatch)


def invoke(client, endpoint: str, component: str | None = None):
    extra = {"InferenceComponentName": component} if component else {}
    return client.invoke_endpoint(EndpointName=endpoint, Body=TGI.body, ContentType="application/json", **extra)


def test_the_client_sends_the_component_in_botocores_header():
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker-runtime")
    operation = model.operation_model("InvokeEndpoint")
    member = operation.input_shape.members["InferenceComponentName"]
    assert member.serialization == {"location": "header", "name": IC_HEADER}


def test_one_endpoint_name_serves_each_component_with_its_own_latency(emu, client):
    started = time.perf_counter()
    assert json.loads(invoke(client, "shared", "ic-a")["Body"].read())[0]["generated_text"]
    fast = time.perf_counter() - started
    started = time.perf_counter()
    assert json.loads(invoke(client, "shared", "ic-b")["Body"].read())[0]["generated_text"]
    slow = time.perf_counter() - started
    assert slow >= 0.06 > fast
    assert [(c["endpoint"], c["inference_component"]) for c in emu.calls()] == [("shared", "ic-a"),
                                                                               ("shared", "ic-b")]


@pytest.mark.parametrize(("endpoint", "component", "message"), [
    ("shared", None, IC_REQUIRED),
    ("solo", "ic-a", IC_NOT_ALLOWED),
    ("shared", "ic-zzz", "Inference Component ic-zzz not found on endpoint shared."),
])
def test_the_component_header_is_required_exactly_where_components_run(emu, client, endpoint, component, message):
    with pytest.raises(ClientError) as info:
        invoke(client, endpoint, component)
    error = info.value.response
    assert error["Error"] == {"Code": "ValidationError", "Message": message}
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_copies_at_zero_answer_sagemakers_no_capacity_error_on_the_wire(emu):
    """Status, headers and body as InvokeEndpoint answers an IC with no copy: a
    ValidationError (400) with the text AWS shows (inference.runtime.NO_CAPACITY_MESSAGE's source)."""
    emu.scale("ic-a", 0, scale_out_after_s=None)
    request = urllib.request.Request(f"{emu.url}/endpoints/shared/invocations", data=TGI.body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "X-Amzn-SageMaker-Inference-Component": "ic-a"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    reply = info.value
    assert reply.code == 400
    assert reply.headers["x-amzn-ErrorType"] == "ValidationError:http://internal.amazon.com/coral/com.amazon.sagemaker/"
    assert reply.headers["Content-Type"] == "application/json" and reply.headers["x-amzn-RequestId"]
    assert json.loads(reply.read()) == {"message": NO_CAPACITY_MESSAGE}
    assert NO_CAPACITY_MESSAGE == runtime_module.NO_CAPACITY_MESSAGE == (
        "Inference Component has no capacity to process this request. ApplicationAutoScaling may be in-progress "
        "(if configured) or try to increase the capacity by invoking UpdateInferenceComponentRuntimeConfig API.")
    # The other component on the same endpoint has its own copies.
    emu.clear_calls()
    request.add_header("X-Amzn-SageMaker-Inference-Component", "ic-b")
    with urllib.request.urlopen(request, timeout=5) as ok:
        assert ok.status == 200


def test_the_runtime_maps_no_capacity_to_model_scaling_up_without_retrying_or_naming_the_endpoint(emu, client):
    emu.scale("ic-a", 0, scale_out_after_s=None)
    catalog = Catalog.from_json(json.dumps([entry("falcon-a", endpoint="shared", component="ic-a")]))
    invoker = SageMakerRuntime.for_models(catalog.models, client=client, sleep=lambda s: None)
    assert invoker.targets == {target_key("shared", "ic-a"): Target("falcon-a")} == {"shared/ic-a": Target("falcon-a")}
    with pytest.raises(ModelScalingUp) as info:
        invoker.invoke("shared", TGI, "ic-a")
    error = info.value
    assert isinstance(error, ModelNotReady) and not error.retryable
    assert error.code == "model_scaling_up" and error.retry_after == runtime_module.RETRY_AFTER_SCALING_UP_S == 60
    assert error.message == ("model falcon-a has no copy running (scaled to zero while idle) and is starting; "
                             "that takes ~5 minutes, retry later")
    assert "shared" not in error.message and "ic-a" not in error.message and ACCOUNT not in error.message
    assert len(emu.calls()) == 1  # minutes away: not retried within the request


def test_a_component_the_endpoint_does_not_host_is_our_bug_not_the_callers(emu, client):
    invoker = SageMakerRuntime(client, targets={"shared/ic-gone": Target("gone")}, sleep=lambda s: None)
    with pytest.raises(InvocationFailed, match=r"^model gone failed: ValidationError \(400\)$"):
        invoker.invoke("shared", TGI, "ic-gone")


def test_copies_come_back_after_the_scale_out_delay_the_first_refusal_starts(emu, client):
    emu.scale("ic-a", 0, scale_out_after_s=0.3)
    time.sleep(0.4)  # no call yet, so no alarm: still at zero
    for _ in range(2):
        with pytest.raises(ClientError, match="no capacity"):
            invoke(client, "shared", "ic-a")
    time.sleep(0.35)
    assert invoke(client, "shared", "ic-a")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert next(e for e in emu.endpoints() if e["inference_component"] == "ic-a")["copies"] == 1


def test_a_scale_in_after_n_calls_and_the_control_api(emu, client):
    urllib.request.urlopen(urllib.request.Request(
        f"{emu.url}/_emulator/components", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"inference_component": "ic-a", "copies": 0, "after_calls": 2,
                         "scale_out_after_s": None}).encode()), timeout=5)
    invoke(client, "shared", "ic-a")
    invoke(client, "shared", "ic-a")
    with pytest.raises(ClientError, match="no capacity"):
        invoke(client, "shared", "ic-a")
    emu.reset()  # back to the copies it was added with
    assert invoke(client, "shared", "ic-a")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_serve_puts_models_with_a_component_behind_one_endpoint():
    from local.deployment import emulator_endpoints

    models = [entry("a", component="ic-a"), {**entry("b", component="ic-b"), "family": "mistral"},
              entry("solo", endpoint="ep-solo")]
    configs = emulator_endpoints(models, 5.0, ic_copies=0, scale_out_after_s=2.0)
    assert [(c.name, c.inference_component, c.family, c.copies, c.scale_out_after_s, c.first_token_ms)
            for c in configs] == [("ep-shared", "ic-a", "falcon", 0, 2.0, 5.0),
                                  ("ep-shared", "ic-b", "mistral", 0, 2.0, 5.0),
                                  ("ep-solo", None, "falcon", 1, None, 5.0)]


def test_the_shared_endpoint_example_serves_its_models_as_components_of_one_endpoint():
    """What `make serve CONFIG=config/examples/shared-endpoint.yaml` builds: MODELS_JSON as the
    Api stack builds it, the front door's catalog of it, and the emulator's endpoints."""
    from local.deployment import ROOT, emulator_endpoints, models_from_config

    models = models_from_config(ROOT / "config" / "examples" / "shared-endpoint.yaml")
    catalog = Catalog.from_json(json.dumps(models))
    assert len(catalog.models) >= 2 and all(m.inference_component for m in catalog.models)
    assert len({m.endpoint_name for m in catalog.models}) == 1
    configs = emulator_endpoints(models)
    assert {(c.name, c.inference_component) for c in configs} == {
        (m.endpoint_name, m.inference_component) for m in catalog.models}


# ------------------------------------------------------------------ the front door over HTTP
SHARED = {"falcon-shared": "ic-falcon-shared", "mistral-shared": "ic-mistral-shared"}


def assert_no_server_side_names(body) -> None:
    raw = json.dumps(body)
    assert "ep-shared" not in raw and "ic-" not in raw and ACCOUNT not in raw, body


def test_models_on_a_shared_endpoint_are_listed_by_name_only(api):
    reply = api.get("/v1/models")
    names = {m["name"] for m in reply.body["models"]}
    assert set(SHARED) <= names
    assert_no_server_side_names(reply.body)


@pytest.mark.parametrize("model", sorted(SHARED))
def test_generate_answers_for_each_model_on_the_shared_endpoint(api, emulator, model):
    reply = api.post("/v1/generate", {"model": model, "inputs": "Tell me about otters.",
                                      "parameters": {"max_new_tokens": 6}})
    assert reply.status == 200, reply.body
    assert reply.body["model"] == model and reply.body["usage"]["generated_tokens"] == 6
    [call] = emulator.calls()
    assert (call["endpoint"], call["inference_component"]) == ("ep-shared", SHARED[model])


def test_copies_at_zero_answer_503_with_retry_after_then_the_call_after_scale_out_succeeds(api, emulator):
    emulator.scale("ic-falcon-shared", 0, scale_out_after_s=0.5)
    body = {"model": "falcon-shared", "inputs": "Hello", "parameters": {"max_new_tokens": 4}}
    reply = api.post("/v1/generate", body)
    assert reply.status == 503, reply.body
    assert reply.headers["retry-after"] == "60" and reply.headers["content-type"] == "application/json"
    assert reply.body == {"error": "model_scaling_up", "request_id": reply.request_id,
                          "message": "model falcon-shared has no copy running (scaled to zero while idle) and is "
                                     "starting; that takes ~5 minutes, retry later"}
    assert_no_server_side_names(reply.body)
    # The other model on the endpoint has copies of its own.
    assert api.post("/v1/generate", {**body, "model": "mistral-shared"}).status == 200
    time.sleep(0.6)  # the emulated alarm + step scaling
    reply = api.post("/v1/generate", body)
    assert reply.status == 200, reply.body
    assert reply.body["model"] == "falcon-shared"


def test_a_template_run_on_a_model_at_zero_copies_is_the_same_503(api, emulator):
    emulator.scale("ic-mistral-shared", 0, scale_out_after_s=None)
    reply = api.post("/v1/templates/code", {"model": "mistral-shared"})
    assert reply.status == 503 and reply.body["error"] == "model_scaling_up", reply.body
    assert reply.headers["retry-after"] == "60"


def test_an_inline_summary_on_a_model_at_zero_copies_answers_503_model_scaling_up(api, emulator):
    emulator.scale("ic-falcon-shared", 0, scale_out_after_s=None)
    reply = api.post("/v1/summarize", {"model": "falcon-shared",
                                       "text": "The harbour reopened after the storm. " * 4})
    assert reply.status == 503, reply.body
    assert reply.body["error"] == "model_scaling_up" and reply.headers["retry-after"] == "60"
    assert_no_server_side_names(reply.body)
