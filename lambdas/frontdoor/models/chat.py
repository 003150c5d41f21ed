"""OpenAI's Chat Completions and (legacy) Completions: the requests this API takes and
the answers it gives, field for field as OpenAI's API reference spells them.

Only what this API does for real is in a request's schema; every other field of
OpenAI's (tools, logprobs, json modes, audio, ...) is an unknown field here, which
is a 400 naming it (``param``), never silently ignored. Fields whose OpenAI default
means "off" (``frequency_penalty: 0``, ``logprobs: false``, ...) are accepted at that
value only, since clients send defaults. docs/openai-compatibility.md lists each field.
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import Field, StringConstraints

from frontdoor.models.base import ApiModel, Integral, ModelName, RequestModel
from frontdoor.services.generation import MAX_CANDIDATES, SEED_SPACE
from frontdoor.services.templating import MAX_PROMPT_CHARS
from inference.params import MAX_STOP_SEQUENCES

Text = Annotated[str, StringConstraints(max_length=MAX_PROMPT_CHARS)]
StopText = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Stop = Optional[Union[StopText, Annotated[list[StopText], Field(max_length=MAX_STOP_SEQUENCES)]]]
# OpenAI's own limits; the model's token budget is checked per model (400 context_length_exceeded).
MaxTokens = Optional[Annotated[int, Field(ge=1, le=1_000_000), Integral]]
Off = Optional[Annotated[float, Field(ge=0, le=0)]]
_OFF = "Accepted only at OpenAI's default (0 / false): this API does not implement it"
_N = (f"How many answers (1..{MAX_CANDIDATES}), each sampled with its own seed; streamed, several answers "
      "arrive whole, one content chunk each, once all are done")


class TextPart(RequestModel):
    type: Literal["text"]
    text: Text


class ChatMessage(RequestModel):
    role: Literal["system", "developer", "user", "assistant"] = Field(
        description="`developer` is read as `system` (OpenAI's newer name for it)")
    content: Union[Text, Annotated[list[TextPart], Field(min_length=1, max_length=64)]] = Field(
        description="A string, or a list of text parts (joined with no separator)")


class StreamOptions(RequestModel):
    include_usage: Optional[bool] = Field(default=None, description="A last chunk with empty choices and the usage")


class ResponseFormat(RequestModel):
    type: Literal["text"]


class SamplingFields(RequestModel):
    """What Chat Completions and Completions share."""

    model: ModelName = Field(description="A model name from GET /v1/models")
    max_tokens: MaxTokens = Field(default=None, description="Maps to max_new_tokens")
    temperature: Optional[Annotated[float, Field(ge=0, le=2)]] = Field(default=None, description="0: greedy decoding")
    top_p: Optional[Annotated[float, Field(gt=0, le=1)]] = Field(default=None, description="1 means no nucleus filtering")
    n: Optional[Annotated[int, Field(ge=1, le=MAX_CANDIDATES), Integral]] = Field(default=None, description=_N)
    stop: Stop = Field(default=None, description=f"Up to {MAX_STOP_SEQUENCES} strings; cut from the answer")
    seed: Optional[Annotated[int, Field(ge=0, le=SEED_SPACE), Integral]] = None
    stream: Optional[bool] = Field(default=None, description="Answer as server-sent events (chunks, then [DONE])")
    stream_options: Optional[StreamOptions] = None
    user: Optional[Annotated[str, StringConstraints(max_length=256)]] = Field(
        default=None, description="Your end user's id: kept with the usage record, never sent to the model")
    frequency_penalty: Off = Field(default=None, description=_OFF)
    presence_penalty: Off = Field(default=None, description=_OFF)
    logprobs: Optional[Literal[False]] = Field(default=None, description=_OFF)


class ChatCompletionRequest(SamplingFields):
    messages: Annotated[list[ChatMessage], Field(min_length=1, max_length=256)]
    max_completion_tokens: MaxTokens = Field(default=None, description="OpenAI's newer name for max_tokens")
    response_format: Optional[ResponseFormat] = None


class CompletionRequest(SamplingFields):
    prompt: Union[Annotated[str, StringConstraints(min_length=1, max_length=MAX_PROMPT_CHARS)],
                  Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=MAX_PROMPT_CHARS)]],
                            Field(min_length=1, max_length=16)]] = Field(
        description="Sent as it is (no chat layout); a list answers each prompt (choices in prompt order)")
    echo: Optional[Literal[False]] = Field(default=None, description=_OFF)
    best_of: Optional[Annotated[int, Field(ge=1, le=1), Integral]] = Field(default=None, description=_OFF)


class CompletionUsage(ApiModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_source: Literal["model", "estimate"] = Field(
        description="`model`: the container's own count; `estimate`: ours (characters / 4)")
    completion_tokens_source: Literal["model", "estimate"]


FinishReason = Literal["stop", "length"]


class AssistantMessage(ApiModel):
    role: Literal["assistant"]
    content: str


class ChatChoice(ApiModel):
    index: int
    message: AssistantMessage
    finish_reason: FinishReason
    logprobs: None = None


class ChatCompletion(ApiModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: CompletionUsage
    system_fingerprint: Optional[str] = None


class ChunkDelta(ApiModel):
    role: Optional[Literal["assistant"]] = None
    content: Optional[str] = None


class ChunkChoice(ApiModel):
    index: int
    delta: ChunkDelta
    finish_reason: Optional[FinishReason] = None
    logprobs: None = None


class ChatCompletionChunk(ApiModel):
    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Optional[CompletionUsage] = None


class CompletionChoice(ApiModel):
    index: int
    text: str
    finish_reason: Optional[FinishReason] = None
    logprobs: None = None


class TextCompletion(ApiModel):
    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Optional[CompletionUsage] = None
