"""The `openai` SDK and LangChain with tenant keys (api.auth: tenant_keys), through a local
gateway that runs the real authorizer against the keys table: the SDKs' own exception
classes for a bad key, a model outside the tier and a spent token budget; streamed chat
authorized the same way; usage recorded per tenant; the key never in a log line."""

from __future__ import annotations

import hashlib
import uuid

import openai
import pytest
from langchain_openai import ChatOpenAI

FALCON = "falcon-7b-instruct"
HELLO = [{"role": "user", "content": "hi"}]


def sdk(front, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{front.url}/v1", api_key=key, max_retries=0)


@pytest.fixture
def gold(tenant_admin) -> str:
    key, _ = tenant_admin.create(f"gold-{uuid.uuid4().hex[:8]}", "gold")
    return key


@pytest.fixture
def metered(tenant_admin) -> tuple[str, str]:
    tenant = f"metered-{uuid.uuid4().hex[:8]}"
    key, _ = tenant_admin.create(tenant, "metered")
    return tenant, key


def test_a_tenant_key_serves_chat_streams_embeddings_free_routes(tenant_front, gold):
    client = sdk(tenant_front, gold)
    assert client.chat.completions.create(model=FALCON, messages=HELLO, max_tokens=4).choices[0].message.content
    chunks = list(client.chat.completions.create(model=FALCON, messages=HELLO, max_tokens=4, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[-1].usage.completion_tokens > 0
    assert FALCON in [m.id for m in client.models.list()]


def test_a_bad_key_is_the_sdks_authentication_error(tenant_front):
    with pytest.raises(openai.AuthenticationError):
        sdk(tenant_front, "sk-not-a-key").chat.completions.create(model=FALCON, messages=HELLO)
    with pytest.raises(openai.AuthenticationError):  # the streaming function is authorized the same way
        list(sdk(tenant_front, "sk-not-a-key").chat.completions.create(model=FALCON, messages=HELLO, stream=True))


def test_a_model_outside_the_tier_does_not_exist_for_the_tenant(tenant_front, metered):
    client = sdk(tenant_front, metered[1])
    assert [m.id for m in client.models.list()] == [FALCON]
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="llama-2-7b-chat", messages=HELLO, max_tokens=4)
    assert caught.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("llama-2-7b-chat")


def test_a_spent_token_budget_is_the_sdks_rate_limit_error(tenant_front, metered):
    client = sdk(tenant_front, metered[1])
    # The tier's budget is 100 tokens a month: 60 fit once; the next 60 cannot.
    first = client.chat.completions.create(model=FALCON, messages=HELLO, max_tokens=60)
    assert first.usage.total_tokens <= 100
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=FALCON, messages=HELLO, max_tokens=60)
    assert caught.value.code == "insufficient_quota"
    assert int(caught.value.response.headers["Retry-After"]) > 0


def test_langchain_with_a_tenant_key(tenant_front, gold):
    llm = ChatOpenAI(model=FALCON, base_url=f"{tenant_front.url}/v1", api_key=gold, max_tokens=6, max_retries=0)
    assert llm.invoke("Tell me about Amazon SageMaker.").content


def test_usage_is_recorded_per_tenant(tenant_front, metered, capfd):
    tenant, key = metered
    sdk(tenant_front, key).chat.completions.create(model=FALCON, messages=HELLO, max_tokens=5)
    out = capfd.readouterr().out
    assert f'"Tenant":"{tenant}"' in out and '"CompletionTokens":' in out


def test_the_key_never_reaches_a_log_line(tenant_front, tenant_admin, capfd, caplog):
    marker_tenant = f"marker-{uuid.uuid4().hex[:8]}"
    key, _ = tenant_admin.create(marker_tenant, "gold")
    client = sdk(tenant_front, key)
    client.chat.completions.create(model=FALCON, messages=HELLO, max_tokens=3)
    list(client.chat.completions.create(model=FALCON, messages=HELLO, max_tokens=3, stream=True))
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=HELLO)
    captured = capfd.readouterr()
    logs = captured.out + captured.err + caplog.text
    for secret in (key, key[3:], hashlib.sha256(key.encode()).hexdigest()):
        assert secret not in logs


def test_a_route_the_budget_cannot_meter_is_refused_to_a_budgeted_tenant(tenant_front, metered, tenant_admin):
    import json
    import urllib.error
    import urllib.request

    def summarize(key: str) -> int:
        request = urllib.request.Request(f"{tenant_front.url}/v1/summarize", method="POST",
                                         data=json.dumps({"text": "A short text. " * 20}).encode(),
                                         headers={"Authorization": f"Bearer {key}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as err:
            assert err.code != 403 or json.loads(err.read())["error"] == "not_metered"
            return err.code

    assert summarize(metered[1]) == 403
    gold_key, _ = tenant_admin.create(f"gold-{uuid.uuid4().hex[:8]}", "gold")
    assert summarize(gold_key) == 200
