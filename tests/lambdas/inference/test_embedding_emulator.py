"""The emulator's embedding container (family hf-embedding) through a real boto3
sagemaker-runtime client: the container's shape, deterministic unit vectors of the model's
dimension, and the Hugging Face inference toolkit's 400 for a malformed body, wrapped by
SageMaker as ModelError (424)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from inference.embeddings import embedding_codec
from local.deployment import emulator_endpoints
from local.emulator.models import EndpointConfig, ModelErr, embedding_invoke
from tests.lambdas.embedding_helpers import BGE, bge_entry
from tests.lambdas.emulated import runtime_client, serve

ENDPOINT = EndpointConfig("ep-bge", "hf-embedding", max_input_length=512)
CODEC = embedding_codec("hf-embedding", BGE)


@pytest.fixture(scope="module")
def emulator():
    yield from serve(ENDPOINT, EndpointConfig("ep-falcon", "falcon"))


@pytest.fixture
def client(emulator, monkeypatch):
    return runtime_client(emulator.url, monkeypatch)


def _invoke(client, body: bytes, content_type: str = "application/json") -> bytes:
    reply = client.invoke_endpoint(EndpointName="ep-bge", Body=body, ContentType=content_type,
                                   Accept="application/json")
    return reply["Body"].read()


def test_the_codecs_request_gets_one_unit_vector_of_768_per_input(client):
    texts = ["What is SageMaker?", "A managed ML service.", "What is SageMaker?"]
    vectors = CODEC.parse(_invoke(client, CODEC.build(texts).body), count=3)
    assert [len(v) for v in vectors] == [768, 768, 768]
    assert all(abs(sum(x * x for x in v) - 1) < 1e-6 for v in vectors)
    assert vectors[0] == vectors[2] != vectors[1]  # deterministic per text


def test_vectors_do_not_depend_on_the_batch(client):
    alone = CODEC.parse(_invoke(client, CODEC.build(["b"]).body))
    together = CODEC.parse(_invoke(client, CODEC.build(["a", "b"]).body))
    assert together[1] == alone[0]


def test_x_text_bodies_are_embedded_too(client):
    one = json.loads(_invoke(client, b"plain text", "application/x-text"))["embedding"]
    many = json.loads(_invoke(client, json.dumps(["x", "y"]).encode(), "application/x-text"))["embedding"]
    assert (len(one), len(many), len(one[0])) == (1, 2, 768)


def test_an_input_over_the_token_limit_is_embedded_not_refused():
    # the model truncates at its 512 tokens; the emulator counts at most that many for latency
    body, tokens = embedding_invoke(ENDPOINT, json.dumps({"text_inputs": ["word " * 2000]}).encode())
    assert len(json.loads(body)["embedding"][0]) == 768 and tokens == 512


@pytest.mark.parametrize(("body", "message"), [
    (b'{"inputs": "hello"}', "\\u0027text_inputs\\u0027"),  # str(KeyError('text_inputs')), Gson-escaped
    (b"not json", "Expecting value: line 1 column 1 (char 0)"),
    (b'["a", "b"]', "expected a JSON object"),
    (b'{"text_inputs": "hello"}', "text_inputs must be a list of strings"),
    (b'{"text_inputs": ["a", 1]}', "text_inputs must be a list of strings"),
    (b'{"text_inputs": ["a"], "mode": "nn_corpus"}', "is not emulated"),
])
def test_a_malformed_body_is_the_toolkits_400_wrapped_as_model_error(client, body, message):
    with pytest.raises(ClientError) as raised:
        _invoke(client, body)
    error = raised.value.response
    assert error["Error"]["Code"] == "ModelError" and error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 400
    original = error["OriginalMessage"]
    assert original.startswith('{\n  "code": 400,\n  "type": "InternalServerException",\n  "message": "')
    assert message in original and "'" not in original
    assert "Received client error (400) from primary" in error["Error"]["Message"]


def test_the_container_streams_nothing(client):
    with pytest.raises(ClientError, match="does not support streaming responses"):
        client.invoke_endpoint_with_response_stream(EndpointName="ep-bge", Body=CODEC.build(["a"]).body,
                                                    ContentType="application/json")


def test_the_toolkit_error_body_matches_the_model_servers_format():
    with pytest.raises(ModelErr) as raised:
        embedding_invoke(ENDPOINT, b'{"inputs": "x"}')
    assert raised.value.status == 400
    assert raised.value.body == ('{\n  "code": 400,\n  "type": "InternalServerException",\n'
                                 '  "message": "\\u0027text_inputs\\u0027"\n}\n')


def test_the_local_stack_gives_the_embedding_endpoint_its_dimension_and_token_limit():
    [endpoint] = emulator_endpoints([bge_entry()])
    assert (endpoint.family, endpoint.dimensions, endpoint.max_input_length) == ("hf-embedding", 768, 512)
    [component] = emulator_endpoints([bge_entry(inference_component="ic-bge")], ic_copies=0)
    assert (component.inference_component, component.copies, component.dimensions) == ("ic-bge", 0, 768)
