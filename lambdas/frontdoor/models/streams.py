"""The token streams' events (``POST /v1/generate/stream``, ``/v1/templates/{name}/stream``):
the ``data`` of each server-sent event, as the OpenAPI document describes it."""

from __future__ import annotations

from typing import Annotated, Optional

from pydantic import Field

from frontdoor.models.base import ApiModel, Integral
from frontdoor.models.generation import GenerateRequest, TemplateRunRequest
from frontdoor.models.responses import ErrorResponse

# One stream is one answer (``services.token_stream.check_streamable``): 1 is the only count.
_ONE_CANDIDATE = Optional[Annotated[int, Field(ge=1, le=1), Integral]]
_ONE_DESCRIPTION = ("A stream carries one answer: 1 (or absent) only; the buffered route "
                    "returns several candidates")


class GenerateStreamRequest(GenerateRequest):
    """``POST /v1/generate``'s body, one candidate at most."""

    candidates: _ONE_CANDIDATE = Field(default=None, description=_ONE_DESCRIPTION)


class TemplateRunStreamRequest(TemplateRunRequest):
    """``POST /v1/templates/{name}``'s body, one candidate at most."""

    candidates: _ONE_CANDIDATE = Field(default=None, description=_ONE_DESCRIPTION)


class StreamToken(ApiModel):
    text: str
    index: int = Field(ge=0, description="The model's token position (0-based) that released this text")


class StreamUsage(ApiModel):
    input_tokens_estimate: int
    max_new_tokens: int
    generated_tokens: Optional[int] = None
    input_tokens: Optional[int] = Field(default=None, description="The model's own input token count, when it reports it")


class StreamDone(ApiModel):
    text: str = Field(description="The whole answer: the buffered route's output for the same request and seed")
    finish_reason: Optional[str] = None
    model: str
    usage: StreamUsage
    template: Optional[str] = None
    label: Optional[str] = None


class StreamError(ErrorResponse):
    status: int = Field(description="The status the route would have answered before the first token")
    retry_after: Optional[int] = Field(default=None, description="Seconds to wait before retrying, when known")
