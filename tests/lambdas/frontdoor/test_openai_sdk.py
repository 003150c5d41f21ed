"""The OpenAI-compatible routes as application developers call them: the official `openai`
SDK and LangChain's `ChatOpenAI`, pointed at the local front door (API Gateway stand-in,
the buffered and the streaming function, the SageMaker runtime emulator), changing only
`base_url` and `api_key`.

Tenant keys (a bad key, a spent budget) are tested over the tenant-mode stack in
test_openai_tenants.py; here the stack runs without auth, as `make serve` with the
default config does.
"""

from __future__ import annotations

import base64

import openai
import pytest
from langchain_openai import ChatOpenAI

FALCON = "falcon-7b-instruct"
BGE = "bge-base-en-v1-5"


@pytest.fixture(scope="module")
def client(stack) -> openai.OpenAI:
    # max_retries=0: a retry would hide the status the route answered.
    return openai.OpenAI(base_url=f"{stack.url}/v1", api_key="unused-without-tenant-keys", max_retries=0)


def test_chat_completion_answers_in_openais_shape(client):
    answer = client.chat.completions.create(
        model=FALCON, max_tokens=16,
        messages=[{"role": "system", "content": "You are terse."},
                  {"role": "user", "content": "Tell me about Amazon SageMaker."}])
    assert answer.object == "chat.completion" and answer.id.startswith("chatcmpl-")
    assert answer.model == FALCON and isinstance(answer.created, int)
    [choice] = answer.choices
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason in ("stop", "length")
    usage = answer.usage
    assert usage.completion_tokens > 0 and usage.prompt_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_max_tokens_bounds_the_answer_and_says_length(client):
    answer = client.chat.completions.create(model=FALCON, max_completion_tokens=3,
                                            messages=[{"role": "user", "content": "Write a long story."}])
    assert answer.usage.completion_tokens <= 3
    assert answer.choices[0].finish_reason == "length"


def test_n_returns_that_many_choices(client):
    answer = client.chat.completions.create(model=FALCON, n=2, max_tokens=8,
                                            messages=[{"role": "user", "content": "A name for a cat?"}])
    assert [c.index for c in answer.choices] == [0, 1]
    assert all(c.message.content for c in answer.choices)


def test_stop_strings_are_cut_from_the_answer(client):
    plain = client.chat.completions.create(model=FALCON, max_tokens=24, seed=7,
                                           messages=[{"role": "user", "content": "Say something."}])
    text = plain.choices[0].message.content
    word = text.split()[2]
    stopped = client.chat.completions.create(model=FALCON, max_tokens=24, seed=7, stop=[word],
                                             messages=[{"role": "user", "content": "Say something."}])
    assert word not in stopped.choices[0].message.content
    assert stopped.choices[0].finish_reason == "stop"
    assert text.startswith(stopped.choices[0].message.content)


def test_streamed_chat_sends_role_deltas_finish_then_usage(client):
    stream = client.chat.completions.create(
        model=FALCON, max_tokens=8, stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Count to five."}])
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["length"] or finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    # The same request unstreamed gives the same text for the same seed.


def test_streamed_and_buffered_answers_agree_for_a_seed(client):
    ask = dict(model=FALCON, max_tokens=12, seed=11, messages=[{"role": "user", "content": "Hello?"}])
    whole = client.chat.completions.create(**ask).choices[0].message.content
    streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(**ask, stream=True)
                       if c.choices)
    assert streamed == whole


def test_completions_take_a_prompt_or_a_list(client):
    one = client.completions.create(model=FALCON, prompt="Once upon a time", max_tokens=5)
    assert one.object == "text_completion" and one.choices[0].text
    many = client.completions.create(model="j2-mid", prompt=["a", "b"], max_tokens=5)
    assert [c.index for c in many.choices] == [0, 1]


def test_models_list_and_retrieve(client, models):
    ids = [m.id for m in client.models.list()]
    assert FALCON in ids and "sd-2-1-base" in ids
    assert client.models.retrieve(FALCON).owned_by == "sagemaker-jumpstart"


def test_embeddings_in_float_and_base64_agree(client):
    texts = ["cheese", "fromage", "a longer sentence about retrieval"]
    floats = client.embeddings.create(model=BGE, input=texts, encoding_format="float")
    packed = client.embeddings.create(model=BGE, input=texts)  # the SDK asks for base64 and decodes it
    assert [d.index for d in floats.data] == [0, 1, 2]
    assert all(len(d.embedding) == 768 for d in floats.data)
    for a, b in zip(floats.data, packed.data):
        assert b.embedding == pytest.approx(a.embedding, rel=1e-6)
    assert floats.usage.prompt_tokens > 0 and floats.usage.total_tokens == floats.usage.prompt_tokens


def test_an_embedding_input_over_the_models_limit_is_context_length_exceeded(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=BGE, input=["ok", "word " * 3000])
    assert caught.value.code == "context_length_exceeded" and caught.value.param == "input[1]"


def test_a_text_model_is_not_an_embedding_model(client):
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model=FALCON, input="x")


def test_image_generation_returns_base64_jpegs(client):
    result = client.images.generate(prompt="a lighthouse", size="256x256", n=2, response_format="b64_json")
    assert len(result.data) == 2
    assert base64.b64decode(result.data[0].b64_json)[:3] == b"\xff\xd8\xff"


def test_unknown_model_is_the_sdks_not_found_error(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "model_not_found" and caught.value.param == "model"


def test_a_conversation_over_the_context_is_context_length_exceeded(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=FALCON, messages=[{"role": "user", "content": "word " * 6000}])
    assert caught.value.code == "context_length_exceeded"


def test_max_tokens_over_the_budget_is_context_length_exceeded(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=FALCON, max_tokens=5000, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "context_length_exceeded"


def test_unsupported_fields_are_refused_by_name(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=FALCON, messages=[{"role": "user", "content": "hi"}],
                                       tools=[{"type": "function", "function": {"name": "f"}}])
    assert caught.value.param == "tools" and caught.value.code == "unsupported_parameter"


def test_langchain_chat_openai_invokes_and_streams(stack):
    llm = ChatOpenAI(model=FALCON, base_url=f"{stack.url}/v1", api_key="unused", max_tokens=8, max_retries=0)
    message = llm.invoke("Tell me about Amazon SageMaker.")
    assert message.content and message.usage_metadata["output_tokens"] > 0
    pieces = [chunk.content for chunk in llm.stream("Count to three.")]
    assert "".join(pieces)
