"""Request and response models of the API; they also generate its OpenAPI document.

Requests are strict (no "5" -> 5 coercion) and forbid unknown fields, so a typo
in a parameter name is a 400 instead of a silently ignored knob.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from frontdoor.services.feedback import MAX_COMMENT_CHARS

ModelName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
StopSequence = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class _Model(BaseModel):
    # Build validators on first use, not at import: a cold start serves one route,
    # so it should not pay for the schemas of all the others.
    model_config = ConfigDict(defer_build=True)


class _Request(_Model):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class TextParameters(_Request):
    """Generation knobs; the model family decides which are allowed (400 otherwise)."""

    max_new_tokens: Optional[Annotated[int, Field(ge=1, le=4096)]] = None
    temperature: Optional[Annotated[float, Field(ge=0, le=2)]] = Field(
        default=None, description="0 means greedy decoding")
    top_p: Optional[Annotated[float, Field(gt=0, lt=1)]] = None
    top_k: Optional[Annotated[int, Field(ge=1, le=500)]] = None
    do_sample: Optional[bool] = None
    repetition_penalty: Optional[Annotated[float, Field(gt=0, le=10)]] = None
    stop: Optional[Annotated[list[StopSequence], Field(max_length=4)]] = None
    seed: Optional[Annotated[int, Field(ge=0, le=2**31 - 1)]] = None

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class GenerateRequest(_Request):
    model: Optional[ModelName] = Field(default=None, description="Model name from GET /v1/models; default text model if omitted")
    inputs: Annotated[str, StringConstraints(min_length=1, max_length=48_000)]
    system: Optional[Annotated[str, StringConstraints(max_length=4000)]] = None
    parameters: TextParameters = Field(default_factory=TextParameters)


class Usage(_Model):
    input_tokens_estimate: int
    max_new_tokens: int
    generated_tokens: Optional[int] = None


class GenerateResponse(_Model):
    output: str
    model: str
    finish_reason: Optional[str] = None
    usage: Usage


class TemplateRunRequest(_Request):
    model: Optional[ModelName] = None
    variables: dict[Annotated[str, StringConstraints(min_length=1, max_length=64)],
                    Annotated[str, StringConstraints(max_length=48_000)]] = Field(default_factory=dict)
    parameters: TextParameters = Field(default_factory=TextParameters)


class TemplateRunResponse(GenerateResponse):
    template: str
    label: Optional[str] = Field(default=None, description="Normalized label for label templates")


class ImageRequest(_Request):
    model: Optional[ModelName] = None
    prompt: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    negative_prompt: Optional[Annotated[str, StringConstraints(max_length=2000)]] = None
    width: Annotated[int, Field(ge=256, le=1024, multiple_of=8)] = 512
    height: Annotated[int, Field(ge=256, le=1024, multiple_of=8)] = 512
    guidance_scale: Annotated[float, Field(ge=0, le=20)] = 7.5
    seed: Optional[Annotated[int, Field(ge=0, le=2**31 - 1)]] = None
    steps: Annotated[int, Field(ge=1, le=100)] = 50
    count: Annotated[int, Field(ge=1, le=4)] = 1


class ImageResponse(_Model):
    images: list[str] = Field(description="Base64-encoded JPEGs")
    format: Literal["jpeg"] = "jpeg"
    model: str
    width: int
    height: int
    seed: Optional[int] = None


RankItem = Union[Annotated[int, Field(ge=0, le=1000)], Annotated[str, StringConstraints(min_length=1, max_length=64)]]


class FeedbackRequest(_Request):
    request_id: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
    rating: Optional[Annotated[int, Field(ge=1, le=5)]] = None
    ranking: Optional[Annotated[list[RankItem], Field(min_length=2, max_length=16)]] = Field(
        default=None, description="Output ids or indices, best first")
    comment: Optional[Annotated[str, StringConstraints(max_length=MAX_COMMENT_CHARS)]] = None

    @model_validator(mode="after")
    def _one_signal(self) -> FeedbackRequest:
        if (self.rating is None) == (self.ranking is None):
            raise ValueError("give exactly one of rating or ranking")
        if self.ranking is not None and len({str(i) for i in self.ranking}) != len(self.ranking):
            raise ValueError("ranking items must be distinct")
        return self


class FeedbackResponse(_Model):
    feedback_id: str
    request_id: str
    created_at: str


class ModelInfo(_Model):
    name: str
    model_id: str
    family: str
    kind: Literal["text", "image"]
    max_input_length: Optional[int] = None
    max_total_tokens: Optional[int] = None
    instance_type: Optional[str] = None
    instance_count: Optional[int] = None
    default: bool


class ModelsResponse(_Model):
    models: list[ModelInfo]


class VariableInfo(_Model):
    name: str
    description: str
    default: Optional[str] = None
    required: bool
    max_chars: int


class TemplateInfo(_Model):
    name: str
    description: str
    style: str
    system: Optional[str] = None
    template: str
    variables: list[VariableInfo]
    parameters: dict[str, Any]
    output: dict[str, Any]
    source: str


class TemplatesResponse(_Model):
    templates: list[TemplateInfo]


class ErrorResponse(_Model):
    error: str = Field(description="Stable error code")
    message: str
    request_id: str
    details: Optional[list[dict[str, Any]]] = None


def error_responses(*codes: int) -> dict[int, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error codes a route can return."""
    text = {400: "Invalid request", 404: "Unknown model or template", 413: "Request body too large",
            415: "Body is not application/json", 422: "The model refused the input",
            429: "Throttled; see Retry-After", 502: "The model failed",
            503: "Model not ready, asleep or unavailable; see Retry-After", 504: "The model timed out"}
    return {code: {"description": text[code], "content": {"application/json": {"model": ErrorResponse}}}
            for code in codes}
