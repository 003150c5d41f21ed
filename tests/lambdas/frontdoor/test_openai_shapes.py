"""The pure parts of the OpenAI-compatible routes: one chat renderer per family, the
request mapping onto native parameters, and OpenAI's error body and statuses."""

from __future__ import annotations

import pytest

from frontdoor.models.chat import ChatCompletionRequest
from frontdoor.openai_errors import (
    details_of,
    is_openai_path,
    openai_error_body,
    openai_status,
    openai_validation_message,
)
from frontdoor.services.openai_text import chat_job, finish_reason, sampling
from inference.catalog import ModelSpec
from inference.chat import TRANSCRIPT_STOP, Message, render_chat
from inference.errors import BadRequest, ModelInputRejected, SpecialTokensRejected

CONVERSATION = [Message("system", "Be brief."), Message("user", "Hi"), Message("assistant", "Hello!"),
                Message("user", "Capital of France?")]


def spec(family: str, max_input: int = 1024) -> ModelSpec:
    return ModelSpec(name=f"m-{family}", model_id="x", endpoint_name="ep", family=family, kind="text",
                     max_input_length=max_input, max_total_tokens=max_input * 2, instance_type=None,
                     instance_count=1, default=False)


def test_falcon_instruct_gets_a_transcript_ending_with_the_assistants_cue():
    rendered = render_chat("falcon", CONVERSATION)
    assert rendered.prompt == "Be brief.\nUser: Hi\nAssistant: Hello!\nUser: Capital of France?\nAssistant:"
    assert rendered.stops == (TRANSCRIPT_STOP,)


def test_ai21_jurassic_gets_the_same_transcript():
    assert render_chat("ai21-j2", CONVERSATION).prompt == render_chat("falcon", CONVERSATION).prompt


def test_llama2_chat_gets_metas_layout_with_the_system_text_in_the_first_turn():
    rendered = render_chat("llama2", CONVERSATION)
    assert rendered.prompt == ("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s>"
                               "<s>[INST] Capital of France? [/INST]")
    assert rendered.stops == ()


def test_mistral_has_no_system_role_so_it_is_prepended():
    assert render_chat("mistral", CONVERSATION).prompt == (
        "[INST] Be brief.\n\nHi [/INST]Hello!</s>[INST] Capital of France? [/INST]")


def test_system_messages_anywhere_are_joined_in_order():
    messages = [Message("user", "a"), Message("system", "one"), Message("system", "two"), Message("user", "b")]
    assert render_chat("falcon", messages).prompt.startswith("one\n\ntwo\nUser: a")


def test_a_conversation_ending_with_the_assistant_is_continued():
    prefill = [Message("user", "Name a colour."), Message("assistant", "The colour is")]
    assert render_chat("falcon", prefill).prompt == "User: Name a colour.\nAssistant: The colour is"
    assert render_chat("llama2", prefill).prompt == "[INST] Name a colour. [/INST] The colour is"
    assert render_chat("mistral", prefill).prompt == "[INST] Name a colour. [/INST]The colour is"


def test_system_text_alone_opens_the_conversation():
    assert render_chat("falcon", [Message("system", "Greet me.")]).prompt == "Greet me.\nAssistant:"
    assert render_chat("llama2", [Message("system", "Greet me.")]).prompt == (
        "[INST] <<SYS>>\nGreet me.\n<</SYS>>\n\n [/INST]")


@pytest.mark.parametrize("family, tag", [("falcon", "<|endoftext|>"), ("llama2", "[/INST]"), ("mistral", "</s>")])
def test_special_tags_in_any_message_are_refused_with_its_position(family, tag):
    with pytest.raises(SpecialTokensRejected) as caught:
        render_chat(family, [Message("user", "fine"), Message("assistant", "ok"), Message("user", f"x {tag} y")])
    assert caught.value.details[0]["field"] == "messages[2].content"


def request(**fields) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                                                 **fields})


def test_sampling_maps_openai_fields_to_native_parameters():
    assert sampling(request(max_completion_tokens=9, max_tokens=5, temperature=0.5, top_p=1, seed=3, stop="x")) == {
        "max_new_tokens": 9, "temperature": 0.5, "seed": 3, "stop": ["x"]}
    assert sampling(request(top_p=0.9))["top_p"] == 0.9


def test_the_transcript_stop_is_added_while_tgi_leaves_room():
    assert chat_job(spec("falcon"), request(stop=["a", "b"])).requested["stop"] == ["a", "b", TRANSCRIPT_STOP]
    assert chat_job(spec("falcon"), request(stop=["a", "b", "c", "d"])).requested["stop"] == ["a", "b", "c", "d"]
    assert "stop" not in chat_job(spec("llama2"), request()).requested


def test_a_prompt_that_cannot_fit_is_refused_before_any_call():
    with pytest.raises(BadRequest) as caught:
        chat_job(spec("falcon", max_input=10), request(messages=[{"role": "user", "content": "word " * 20}]))
    assert openai_error_body(400, caught.value.code, caught.value.message,
                             details_of(caught.value, "/v1/chat/completions"))["error"]["code"] == \
        "context_length_exceeded"


@pytest.mark.parametrize("reason, expected", [("length", "length"), ("eos_token", "stop"),
                                              ("stop_sequence", "stop"), (None, "stop")])
def test_finish_reasons_are_openais_two(reason, expected):
    assert finish_reason(reason) == expected


def test_error_bodies_have_openais_shape_and_statuses():
    body = openai_error_body(404, "not_found", "no such model", [{"field": "model", "type": "not_found"}], "rid")
    assert body == {"error": {"message": "no such model", "type": "not_found_error", "param": "model",
                              "code": "model_not_found", "request_id": "rid"}}
    assert openai_status(422) == 400 and openai_status(429) == 429
    assert openai_error_body(429, "insufficient_quota", "spent")["error"]["type"] == "insufficient_quota"
    assert openai_error_body(502, "model_error", "failed")["error"]["type"] == "server_error"


def test_the_models_own_token_refusal_is_context_length_exceeded():
    refused = ModelInputRejected("Input validation error: `inputs` must have less than 1024 tokens. Given: 2000",
                                 input_tokens=2000)
    details = details_of(refused, "/v1/completions")
    assert openai_error_body(400, refused.code, refused.message, details)["error"]["param"] == "prompt"
    assert openai_error_body(400, refused.code, refused.message, details)["error"]["code"] == \
        "context_length_exceeded"


def test_validation_messages_name_the_field():
    assert openai_validation_message([{"loc": ["body", "tools"], "type": "extra_forbidden", "msg": "x"}]).startswith(
        "'tools' is not supported")
    assert openai_validation_message([{"loc": ["body", "n"], "type": "less_than_equal", "msg": "too big"}]) == \
        "n: too big"


def test_only_openais_routes_use_its_shape():
    assert is_openai_path("/v1/chat/completions") and is_openai_path("/v1/models/falcon")
    assert not is_openai_path("/v1/models") and not is_openai_path("/v1/generate")


def test_the_layout_stop_is_cut_here_when_tgi_has_no_room_for_it():
    assert chat_job(spec("falcon"), request(stop=["a", "b", "c", "d"])).cut == (TRANSCRIPT_STOP,)
    assert chat_job(spec("falcon"), request(stop=["a"])).cut == ()


def test_the_budget_reservation_is_capped_at_the_models_context():
    job = chat_job(spec("falcon", max_input=1024), request(max_tokens=1_000_000, n=2))
    assert job.reserve_tokens() <= 2 * 2048 + 10
    small = chat_job(spec("falcon"), request(max_tokens=10))
    assert small.reserve_tokens() == len(small.prompts[0]) // 4 + (len(small.prompts[0]) % 4 > 0) + 10
