"""Waking a sleeping model: the pure verdict, the control-plane adapter against a
fake SageMaker that behaves like AWS, the invoker's error mapping, and the HTTP answer."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from inference.control import EndpointWaker, WakeTarget
from frontdoor.errors import status_of
from inference.runtime import SageMakerRuntime, Target
from inference.errors import ConfigError, InvocationFailed, ModelAsleep, ModelNotReady, ModelUnavailable
from inference.catalog import Catalog
from inference.codecs import WireRequest
from inference.wake import verdict
from tests.lambdas.fake_sagemaker import ACCOUNT, FakeSageMaker, FakeSSM, client_error

MODEL = "falcon-7b-instruct"
ENDPOINT = "Falcon7bInstructEndpoint-AbC123"
PARAM = "/fm-sleepy/endpoints/falcon-7b-instruct/endpoint-config-name"
TARGET = WakeTarget(MODEL, ENDPOINT, PARAM)
REQUEST = WireRequest(body=b'{"inputs": "hi"}', content_type="application/json", accept="application/json")


@pytest.fixture
def sm() -> FakeSageMaker:
    fake = FakeSageMaker()
    fake.configs.add("Falcon7bInstructEndpointConfig-v2")
    return fake


@pytest.fixture
def ssm() -> FakeSSM:
    return FakeSSM({PARAM: "Falcon7bInstructEndpointConfig-v2"})


@pytest.fixture
def waker(sm, ssm) -> EndpointWaker:
    return EndpointWaker([TARGET], sagemaker=sm, ssm=ssm, now=lambda: sm.now)


class FakeRuntime:
    """sagemaker-runtime that answers like AWS for an endpoint that does not exist."""

    def __init__(self, sm: FakeSageMaker | None = None, message: str | None = None) -> None:
        self.sm = sm
        self.message = message
        self.calls = 0

    def invoke_endpoint(self, *, EndpointName: str, **_) -> dict:
        self.calls += 1
        if self.sm is not None and EndpointName in self.sm.endpoints and self.sm.endpoints[EndpointName].status == "InService":
            from io import BytesIO

            return {"Body": BytesIO(b'[{"generated_text": "hello"}]')}
        raise client_error("ValidationError", self.message or f"Endpoint {EndpointName} of account {ACCOUNT} not found.",
                           "InvokeEndpoint")


# -- the verdict (pure) -----------------------------------------------------------


def test_verdict_for_a_missing_endpoint_is_create_and_retry_in_the_wake_time(sm):
    v = verdict(MODEL, None, None, sm.now)
    assert (v.create, v.code, v.retry_after_s) == (True, "model_asleep", 600)
    assert v.message == "model falcon-7b-instruct is asleep; starting it, retry in ~10 minutes"


@pytest.mark.parametrize(("minutes_ago", "expected"), [(0, 10), (4, 6), (9.8, 1), (25, 1)])
def test_verdict_while_creating_counts_down_from_creation_time(sm, minutes_ago, expected):
    v = verdict(MODEL, "Creating", sm.now - timedelta(minutes=minutes_ago), sm.now)
    assert not v.create and v.retry_after_s == expected * 60
    assert v.message == f"model falcon-7b-instruct is asleep; starting it, retry in ~{expected} minutes"


def test_verdict_for_failed_endpoint_does_not_create_and_is_not_called_asleep(sm):
    v = verdict(MODEL, "Failed", sm.now, sm.now)
    assert (v.create, v.code) == (False, "model_not_ready")
    assert v.message == "model falcon-7b-instruct is unavailable (endpoint Failed) and needs an operator"


# -- the adapter against the fake control plane -------------------------------------


def test_missing_endpoint_is_created_with_same_name_and_current_config(waker, sm, ssm):
    # When a sleeping model is woken
    error = waker.wake(ENDPOINT)
    # Then CreateEndpoint used the same name and the config the SSM parameter names
    assert sm.calls == [("DescribeEndpoint", {"EndpointName": ENDPOINT}),
                        ("CreateEndpoint", {"EndpointName": ENDPOINT,
                                            "EndpointConfigName": "Falcon7bInstructEndpointConfig-v2"})]
    assert ssm.reads == [PARAM]
    assert sm.endpoints[ENDPOINT].status == "Creating"
    # And the caller is told to come back
    assert isinstance(error, ModelAsleep)
    assert (status_of(error), error.code, error.retry_after) == (503, "model_asleep", 600)


def test_waking_is_idempotent_while_creating(waker, sm):
    # Given a first call already started the endpoint 3 minutes ago
    waker.wake(ENDPOINT)
    sm.now += timedelta(minutes=3)
    # When more calls arrive
    errors = [waker.wake(ENDPOINT) for _ in range(3)]
    # Then nothing more is created and each answer counts down
    assert sm.operations().count("CreateEndpoint") == 1
    assert {e.message for e in errors} == {"model falcon-7b-instruct is asleep; starting it, retry in ~7 minutes"}


def test_lost_create_race_is_answered_like_already_starting(waker, sm):
    # Given DescribeEndpoint saw nothing, but the wake schedule created it right after
    original = sm.create_endpoint

    def racing_create(**kwargs):
        sm.add_endpoint(ENDPOINT, "Falcon7bInstructEndpointConfig-v2", status="Creating")
        return original(**kwargs)

    sm.create_endpoint = racing_create
    # When waking
    error = waker.wake(ENDPOINT)
    # Then SageMaker's "Cannot create already existing endpoint" is not an error for the caller
    assert isinstance(error, ModelAsleep) and error.retry_after == 600


def test_endpoint_still_deleting_is_not_created_again(waker, sm):
    sm.add_endpoint(ENDPOINT, "Falcon7bInstructEndpointConfig-v2", status="Deleting")
    error = waker.wake(ENDPOINT)
    assert "CreateEndpoint" not in sm.operations()
    assert (error.code, error.retry_after) == ("model_asleep", 120)
    assert error.message == "model falcon-7b-instruct is going to sleep; retry in ~2 minutes to wake it again"


def test_endpoint_in_service_again_asks_for_an_immediate_retry(waker, sm):
    sm.add_endpoint(ENDPOINT, "Falcon7bInstructEndpointConfig-v2", status="InService")
    error = waker.wake(ENDPOINT)
    assert type(error) is ModelNotReady and error.retry_after == 5
    assert "CreateEndpoint" not in sm.operations()


def test_throttled_control_plane_asks_for_a_quick_retry(waker, sm):
    sm.faults["DescribeEndpoint"] = client_error("ThrottlingException", "Rate exceeded", "DescribeEndpoint")
    error = waker.wake(ENDPOINT)
    assert isinstance(error, ModelAsleep) and error.retry_after == 5
    assert error.message == "model falcon-7b-instruct is asleep; retry in a few seconds to start it"


def test_missing_endpoint_config_is_our_bug_and_propagates(waker, sm, ssm):
    # Given the parameter names a config that no longer exists
    ssm.parameters[PARAM] = "Falcon7bInstructEndpointConfig-v1"
    # Then SageMaker's ValidationException surfaces (a logged 500), nothing is created
    with pytest.raises(ClientError, match="Could not find endpoint configuration"):
        waker.wake(ENDPOINT)
    assert ENDPOINT not in sm.endpoints


# -- the invoker ----------------------------------------------------------------


def test_invoking_a_sleeping_model_wakes_it_and_raises_model_asleep(waker, sm):
    invoker = SageMakerRuntime(FakeRuntime(), waker=waker, sleep=lambda _: None)
    with pytest.raises(ModelAsleep) as err:
        invoker.invoke(ENDPOINT, REQUEST)
    assert err.value.message == "model falcon-7b-instruct is asleep; starting it, retry in ~10 minutes"
    assert sm.endpoints[ENDPOINT].status == "Creating"


def test_woken_model_answers_once_in_service(waker, sm):
    runtime = FakeRuntime(sm)
    invoker = SageMakerRuntime(runtime, waker=waker, sleep=lambda _: None)
    with pytest.raises(ModelAsleep):
        invoker.invoke(ENDPOINT, REQUEST)
    sm.finish(ENDPOINT)
    assert invoker.invoke(ENDPOINT, REQUEST) == b'[{"generated_text": "hello"}]'


class RecordingLogger:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, dict]] = []

    def error(self, message: str, *, extra: dict) -> None:
        self.records.append(("ERROR", message, extra))


def test_missing_endpoint_of_a_model_that_does_not_sleep_is_model_unavailable(waker, sm):
    log = RecordingLogger()
    invoker = SageMakerRuntime(FakeRuntime(), waker=waker, sleep=lambda _: None, logger=log,
                               targets={"ep-always-on": Target("llama-2-7b-chat")})
    with pytest.raises(ModelUnavailable) as err:
        invoker.invoke("ep-always-on", REQUEST)
    # The caller learns the model and when to retry; only the log names the endpoint.
    assert (status_of(err.value), err.value.code) == (503, "model_unavailable")
    assert err.value.message == "model llama-2-7b-chat is not available right now"
    assert err.value.retry_after == 60
    assert log.records == [("ERROR", "model endpoint not found", {
        "error": "model_unavailable", "model": "llama-2-7b-chat", "endpoint_name": "ep-always-on"})]
    # Nothing is woken, and no retry: the endpoint comes back only with a deploy.
    assert sm.calls == []
    assert invoker.last_attempts == 1


def test_missing_endpoint_without_a_model_name_does_not_name_the_endpoint(caplog):
    invoker = SageMakerRuntime(FakeRuntime(), sleep=lambda _: None)
    with caplog.at_level("ERROR", logger="inference.runtime"):
        with pytest.raises(ModelUnavailable, match=r"^the model is not available right now$"):
            invoker.invoke("ep-always-on", REQUEST)
    assert [r.endpoint_name for r in caplog.records] == ["ep-always-on"]


def test_summarizer_does_not_retry_a_missing_endpoint():
    # The map-reduce retries only what says it is retryable.
    assert not ModelUnavailable("model x is not available right now").retryable


def test_other_validation_errors_of_a_wakeable_model_do_not_wake_it(waker, sm):
    runtime = FakeRuntime(message="Request payload size 7000000 exceeds 6291456")
    invoker = SageMakerRuntime(runtime, waker=waker, sleep=lambda _: None)
    with pytest.raises(InvocationFailed, match=r"failed: ValidationError \(400\)$") as err:
        invoker.invoke(ENDPOINT, REQUEST)
    assert isinstance(err.value.__cause__, ClientError) and "payload size" in str(err.value.__cause__)
    assert sm.calls == []


# -- MODELS_JSON and the HTTP answer ----------------------------------------------------


def _models(**wake) -> str:
    return json.dumps([{
        "name": MODEL, "model_id": "huggingface-llm-falcon-7b-instruct-bf16", "endpoint_name": ENDPOINT,
        "family": "falcon", "kind": "text", "max_input_length": 1024, "max_total_tokens": 2048,
        "instance_type": "ml.g5.2xlarge", "instance_count": 1, "default": True, **wake,
    }])


def test_runtime_wires_a_waker_only_for_wakeable_models(monkeypatch):
    from frontdoor import config

    monkeypatch.setenv("MODELS_JSON", _models(wakeable=True, endpoint_config_parameter=PARAM))
    assert config.runtime.__wrapped__().invoker.waker.wakeable(ENDPOINT)
    monkeypatch.setenv("MODELS_JSON", _models())
    invoker = config.runtime.__wrapped__().invoker
    assert invoker.waker is None
    assert invoker.targets == {ENDPOINT: Target(MODEL)}
    from inference.observability import logger

    assert invoker.logger is logger


@pytest.mark.parametrize(
    ("wake", "message"),
    [
        ({"wakeable": True}, r"MODELS_JSON\[0\].endpoint_config_parameter must be a non-empty string when wakeable"),
        ({"wakeable": "yes", "endpoint_config_parameter": PARAM}, r"MODELS_JSON\[0\].wakeable must be true or false"),
    ],
)
def test_malformed_wake_fields_fail_cold_start(wake, message):
    with pytest.raises(ConfigError, match=message):
        Catalog.from_json(_models(**wake))


def test_http_answer_is_503_model_asleep_with_retry_after(monkeypatch, waker, sm):
    # Given the front door with a sleeping wakeable model (the handler validates the
    # environment on import; the route's runtime is replaced below)
    monkeypatch.setenv("MODELS_JSON", _models(wakeable=True, endpoint_config_parameter=PARAM))
    from frontdoor.config import Runtime
    from frontdoor.handler import lambda_handler
    from frontdoor.routes import generation
    from frontdoor.services.generation import ImageService, TextService
    from frontdoor.services.templating import TemplateRegistry
    from local.gateway import to_event
    from local.lambda_runtime import LocalContext

    catalog = Catalog.from_json(_models(wakeable=True, endpoint_config_parameter=PARAM))
    invoker = SageMakerRuntime(FakeRuntime(sm), waker=waker, sleep=lambda _: None)
    templates = TemplateRegistry.load(None)
    rt = Runtime(None, catalog, templates, TextService(catalog, templates, invoker),  # type: ignore[arg-type]
                 ImageService(catalog, invoker), None, invoker)
    monkeypatch.setattr(generation, "runtime", lambda: rt)
    # When a client calls it
    event = to_event("POST", "/v1/generate", [("Content-Type", "application/json")],
                     json.dumps({"model": MODEL, "inputs": "Hello"}).encode())
    response = lambda_handler(event, LocalContext())
    # Then it answers 503 model_asleep with Retry-After, never naming the endpoint
    body = json.loads(response["body"])
    assert response["statusCode"] == 503
    headers = {k.lower(): v for k, v in response["multiValueHeaders"].items()}
    assert headers["retry-after"] == ["600"]
    assert body["error"] == "model_asleep"
    assert body["message"] == "model falcon-7b-instruct is asleep; starting it, retry in ~10 minutes"
    assert ENDPOINT not in response["body"]
    # And the endpoint is starting
    assert sm.endpoints[ENDPOINT].status == "Creating"
