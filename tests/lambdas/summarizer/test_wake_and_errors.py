"""A sleeping model on /v1/summarize answers like every other route (503 model_asleep,
the endpoint is started); jobs for it fail clearly; no error names an endpoint or account.

The data plane is the SageMaker runtime emulator (an endpoint it does not know
answers exactly like AWS: "Endpoint <name> of account <id> not found."); the control
plane is the fake SageMaker the front door's wake tests use.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from inference.catalog import Catalog
from inference.control import EndpointWaker, WakeTarget
from inference.errors import InvocationFailed, ModelAsleep
from inference.runtime import SageMakerRuntime
from local.emulator.api import ACCOUNT
from local.emulator.models import EndpointConfig
from frontdoor.routes import summarize as routes
from summarizer.errors import ChunkFailed
from summarizer.jobs import FAILED, new_job_id
from summarizer.mapreduce import Summarizer
from summarizer.run_config import SummarizeConfig
from summarizer.model import make_generate
from summarizer.settings import Services, Settings
from summarizer.worker import Worker
from summarizer_aws import Clock, call, make_job_infra
from tests.lambdas import emulated
from tests.lambdas.emulated import serve
from tests.lambdas.fake_sagemaker import FakeSageMaker, FakeSSM

MODEL = "falcon-7b-instruct"
ENDPOINT = "Falcon7bInstructEndpoint-Sleepy1"
PARAM = "/fm/endpoints/falcon-7b-instruct/endpoint-config-name"
CONFIG = SummarizeConfig(max_concurrency=4, backoff_base_s=0.001, backoff_cap_s=0.005)


def models_json(**wake) -> str:
    return json.dumps([{
        "name": MODEL, "model_id": "huggingface-llm-falcon-7b-instruct-bf16", "endpoint_name": ENDPOINT,
        "family": "falcon", "kind": "text", "max_input_length": 1024, "max_total_tokens": 2048,
        "instance_type": "ml.g5.2xlarge", "instance_count": 1, "default": True, **wake,
    }])


@pytest.fixture(scope="module")
def emulator():
    # Knows no endpoint at all: every invocation is "not found", as for a sleeping model.
    yield from serve(EndpointConfig("some-other-endpoint", "falcon"))


@pytest.fixture
def runtime_client(emulator, monkeypatch):
    return emulated.runtime_client(emulator.url, monkeypatch)


@pytest.fixture
def sm() -> FakeSageMaker:
    fake = FakeSageMaker()
    fake.configs.add("Falcon7bInstructEndpointConfig-v1")
    return fake


@pytest.fixture
def waker(sm) -> EndpointWaker:
    return EndpointWaker([WakeTarget(MODEL, ENDPOINT, PARAM)], sagemaker=sm,
                         ssm=FakeSSM({PARAM: "Falcon7bInstructEndpointConfig-v1"}), now=lambda: sm.now)


# -- the model call -------------------------------------------------------------------


def runtime(client, waker=None, **wake) -> SageMakerRuntime:
    """The summarizer's client for the one model (one attempt per call, as Services builds it)."""
    return SageMakerRuntime.for_models(Catalog.from_json(models_json(**wake)).models, waker=waker, max_attempts=1,
                                       client=client)


def test_a_missing_endpoint_fails_with_the_model_name_and_code_only(runtime_client):
    generate = make_generate(ENDPOINT, "falcon", runtime(runtime_client))
    with pytest.raises(ChunkFailed) as info:
        Summarizer(generate, "falcon", config=CONFIG).summarize("The harbour reopened after the storm.")
    message = str(info.value)
    assert ENDPOINT not in message and ACCOUNT not in message, message
    assert info.value.cause.code == "model_unavailable" and info.value.attempts == 1


def test_without_a_waker_a_sleeping_model_is_a_clear_model_asleep(runtime_client):
    generate = make_generate(ENDPOINT, "falcon", runtime(runtime_client, wakeable=True,
                                                         endpoint_config_parameter=PARAM))
    with pytest.raises(ModelAsleep) as info:
        generate("Summarize: hi", {"max_new_tokens": 8})
    assert info.value.code == "model_asleep" and not info.value.retryable
    assert str(info.value).startswith(f"model {MODEL} is asleep")
    assert ENDPOINT not in str(info.value) and ACCOUNT not in str(info.value)


def test_with_the_front_doors_waker_a_sleeping_model_is_started_and_answered_503(runtime_client, waker, sm):
    generate = make_generate(ENDPOINT, "falcon", runtime(runtime_client, waker, wakeable=True,
                                                         endpoint_config_parameter=PARAM))
    with pytest.raises(ModelAsleep) as info:
        generate("Summarize: hi", {"max_new_tokens": 8})
    assert info.value.retry_after == 600
    assert sm.endpoints[ENDPOINT].status == "Creating"


# -- POST /v1/summarize and the worker ------------------------------------------------------


class WakeableServices(Services):
    def __init__(self, store, client, waker=None):
        catalog = Catalog.from_json(models_json(wakeable=True, endpoint_config_parameter=PARAM))
        super().__init__(Settings("jobs", store.queue_url, "jobs-bucket", 4), catalog=catalog, store=store,
                         runtime=SageMakerRuntime.for_models(catalog.models, waker=waker, max_attempts=1,
                                                            client=client))


@pytest.fixture
def app():
    from frontdoor.api import app

    return app


@pytest.fixture
def services(runtime_client, waker, aws, monkeypatch):
    store = make_job_infra(Clock())
    # The API's summarization services carry the front door's waker; the worker's none.
    svc = WakeableServices(store, runtime_client, waker)
    monkeypatch.setattr(routes, "_services", lambda: svc)
    monkeypatch.setattr(routes, "runtime", lambda: SimpleNamespace(waker=waker))
    return svc


@pytest.mark.parametrize("size", ["inline", "async"])
def test_summarize_on_a_sleeping_model_is_503_model_asleep_and_starts_it(app, services, sm, size, long_document):
    text = "The harbour reopened after the storm. " * 5 if size == "inline" else long_document
    status, body, headers = call(app, "POST", "/v1/summarize", {"text": text})
    assert status == 503, body
    assert body["error"] == "model_asleep" and headers["Retry-After"] == "600"
    assert body["message"] == f"model {MODEL} is asleep; starting it, retry in ~10 minutes"
    assert ENDPOINT not in json.dumps(body)
    assert sm.endpoints[ENDPOINT].status == "Creating"
    # No job was queued for a model that cannot run it.
    assert services.store.sqs.receive_message(QueueUrl=services.store.queue_url).get("Messages") is None


def test_summarize_on_an_awake_model_describes_it_once_and_runs(app, services, sm, emulator):
    sm.add_endpoint(ENDPOINT, "Falcon7bInstructEndpointConfig-v1")
    emulator.add_endpoint(EndpointConfig(ENDPOINT, "falcon"))
    try:
        status, body, _ = call(app, "POST", "/v1/summarize", {"text": "The harbour reopened after the storm. " * 5})
    finally:
        emulator.remove_endpoint(ENDPOINT)
    assert status == 200, body
    assert sm.operations() == ["DescribeEndpoint"]


def test_a_job_for_a_model_that_fell_asleep_fails_model_asleep(services, short_document):
    job_id = new_job_id()
    services.store.create(job_id, model=MODEL, style="paragraph", max_words=None, text=short_document)
    asleep = WakeableServices(services.store, services.runtime.client)  # the worker's: no waker
    worker = Worker(asleep.store, asleep.catalog, asleep.generate_for, asleep.limits, CONFIG, stop_margin_s=0)
    assert worker.handle(job_id, 600, "w1") == "failed"
    job = services.store.get(job_id)
    assert job.status == FAILED and job.item["error"]["code"] == "model_asleep"
    assert ENDPOINT not in json.dumps(job.item["error"]) and ACCOUNT not in json.dumps(job.item["error"])


def test_any_other_aws_error_reaches_clients_as_model_code_and_status_only(caplog):
    from tests.lambdas.fake_sagemaker import client_error

    text = (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/FrontDoor/x is not authorized to perform: "
            f"sagemaker:InvokeEndpoint on resource: arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{ENDPOINT}")

    class Refusing:
        def invoke_endpoint(self, **_):
            raise client_error("AccessDeniedException", text, "InvokeEndpoint")

    generate = make_generate(ENDPOINT, "falcon", runtime(Refusing()))
    with caplog.at_level("WARNING", logger="inference.runtime"), pytest.raises(InvocationFailed) as info:
        generate("Summarize: hi", {"max_new_tokens": 8})
    error = info.value
    assert not error.retryable and error.code == "internal_error"
    assert str(error) == f"model {MODEL} failed: AccessDeniedException (400)"
    # The full text is in the log only.
    assert any(text in str(getattr(r, "error", "")) for r in caplog.records)
