"""Request and response models of the API; they also generate its OpenAPI document.

Requests are strict (no "5" -> 5 coercion) and forbid unknown fields, so a typo
in a parameter name is a 400 instead of a silently ignored knob. Whatever a
request must satisfy is in its schema, cross-field rules included (``oneOf``):
a body the document accepts is never a 400. What the schema cannot know, the
deployment's models and templates, is a 422 (see ``error_responses``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from frontdoor.services import image_presets
from frontdoor.services.batch import MAX_BATCH
from frontdoor.services.feedback import MAX_COMMENT_CHARS
from frontdoor.services.generation import MAX_CANDIDATES


def _integral(value: Any) -> Any:
    """JSON has one number type: ``5.0`` is the integer 5 to JSON Schema, so it is to us."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


# An integer as JSON Schema means it (``5`` or ``5.0``, never ``"5"`` or ``true``). Put it
# after the constraints (``Annotated[int, Field(ge=1), Integral]``) so they stay JSON Schema's.
Integral = BeforeValidator(_integral)
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
StopSequence = Annotated[str, StringConstraints(min_length=1, max_length=64)]


def exactly_one(*fields: str) -> dict[str, Any]:
    """``json_schema_extra`` for "exactly one of ``fields`` is given (and not null)":
    each branch requires one of them with a non-null value, ``oneOf`` allows one branch."""
    return {"oneOf": [{"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in fields]}


class _Model(BaseModel):
    # Build validators on first use, not at import: a cold start serves one route,
    # so it should not pay for the schemas of all the others.
    model_config = ConfigDict(defer_build=True)


class _Request(_Model):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class TextParameters(_Request):
    """Generation knobs; the model family decides which are allowed (400 otherwise)."""

    max_new_tokens: Optional[Annotated[int, Field(ge=1, le=4096), Integral]] = None
    temperature: Optional[Annotated[float, Field(ge=0, le=2)]] = Field(
        default=None, description="0 means greedy decoding")
    top_p: Optional[Annotated[float, Field(gt=0, lt=1)]] = None
    top_k: Optional[Annotated[int, Field(ge=1, le=500), Integral]] = None
    do_sample: Optional[bool] = None
    repetition_penalty: Optional[Annotated[float, Field(gt=0, le=10)]] = None
    stop: Optional[Annotated[list[StopSequence], Field(max_length=4)]] = None
    seed: Optional[Annotated[int, Field(ge=0, le=2**31 - 1), Integral]] = None

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


Candidates = Optional[Annotated[int, Field(ge=1, le=MAX_CANDIDATES), Integral]]
_CANDIDATES = ("Return this many outputs of the prompt, each with an id for POST /v1/feedback to rank or rate. "
               "More than one samples with a different seed each (do_sample on); greedy parameters "
               "(temperature 0, do_sample false) are refused (422)")
InputText = Annotated[str, StringConstraints(min_length=1, max_length=48_000)]
SystemText = Annotated[str, StringConstraints(max_length=4000)]
TemplateVariables = dict[Annotated[str, StringConstraints(min_length=1, max_length=64)],
                         Annotated[str, StringConstraints(max_length=48_000)]]


class GenerateRequest(_Request):
    model: Optional[ModelName] = Field(default=None, description="Model name from GET /v1/models; default text model if omitted")
    inputs: InputText
    system: Optional[SystemText] = None
    parameters: TextParameters = Field(default_factory=TextParameters)
    candidates: Candidates = Field(default=None, description=_CANDIDATES)


class Usage(_Model):
    input_tokens_estimate: int
    max_new_tokens: int
    generated_tokens: Optional[int] = None


class CandidateOutput(_Model):
    id: str = Field(description="Rank or rate this output by id in POST /v1/feedback (with the response's x-request-id)")
    output: str
    finish_reason: Optional[str] = None
    usage: Usage
    seed: Optional[int] = Field(default=None, description="The sampling seed (null for families without one)")
    label: Optional[str] = None


class GenerateResponse(_Model):
    output: str = Field(description="The (first candidate's) output")
    model: str
    finish_reason: Optional[str] = None
    usage: Usage = Field(description="With candidates, generated_tokens counts every candidate's tokens")
    candidates: Optional[list[CandidateOutput]] = Field(
        default=None, description="Every output with its id, when the request asked for candidates")


class TemplateRunRequest(_Request):
    model: Optional[ModelName] = None
    variables: TemplateVariables = Field(default_factory=dict)
    parameters: TextParameters = Field(default_factory=TextParameters)
    candidates: Candidates = Field(default=None, description=_CANDIDATES)


class TemplateRunResponse(GenerateResponse):
    template: str
    label: Optional[str] = Field(default=None, description="Normalized label for label templates")


def _no_default(schema: dict[str, Any]) -> None:
    """A field whose default depends on ``preset``: the schema states no default."""
    schema.pop("default", None)


def _one_of_given(*fields: str) -> dict[str, Any]:
    return [{"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in fields]


ImageSide = Annotated[int, Field(ge=256, le=1024, multiple_of=8), Integral]
PresetName = Literal[image_presets.NAMES]  # type: ignore[valid-type]


class ImageRequest(_Request):
    """``prompt``, or a ``preset`` whose fields the caller may override one by one."""

    model_config = ConfigDict(json_schema_extra={"anyOf": _one_of_given("prompt", "preset")})

    model: Optional[ModelName] = None
    preset: Optional[PresetName] = Field(
        default=None, description="A named preset (GET /v1/images/presets) that fills every field not sent: "
                                  + image_presets.describe())
    prompt: Optional[Annotated[str, StringConstraints(min_length=1, max_length=2000)]] = Field(
        default=None, description="Required unless preset is given")
    negative_prompt: Optional[Annotated[str, StringConstraints(max_length=2000)]] = Field(
        default=None, description="Default: the preset's, else none; null sends none")
    width: ImageSide = Field(default=None, description="Default: the preset's, else 512", json_schema_extra=_no_default)
    height: ImageSide = Field(default=None, description="Default: the preset's, else 512", json_schema_extra=_no_default)
    guidance_scale: Annotated[float, Field(ge=0, le=20)] = Field(
        default=None, description="Default: the preset's, else 7.5", json_schema_extra=_no_default)
    seed: Optional[Annotated[int, Field(ge=0, le=2**31 - 1), Integral]] = Field(
        default=None, description="Default: the preset's, else random; null sends none")
    steps: Annotated[int, Field(ge=1, le=100), Integral] = Field(
        default=None, description="Default: the preset's, else 50", json_schema_extra=_no_default)
    count: Annotated[int, Field(ge=1, le=4), Integral] = Field(
        default=None, description="Default 1", json_schema_extra=_no_default)

    @model_validator(mode="after")
    def _prompt_or_preset(self) -> ImageRequest:
        if self.prompt is None and self.preset is None:
            raise ValueError("give a prompt, a preset, or both")
        return self

    def given(self) -> dict[str, Any]:
        """The image fields the caller sent. An explicit null for ``negative_prompt`` or ``seed``
        counts (none, over the preset's); a null ``prompt`` means the preset's."""
        return {name: getattr(self, name) for name in self.model_fields_set
                if name in image_presets.DEFAULTS and not (name == "prompt" and self.prompt is None)}


class ImageResponse(_Model):
    images: list[str] = Field(description="Base64-encoded JPEGs")
    format: Literal["jpeg"] = "jpeg"
    model: str
    width: int
    height: int
    seed: Optional[int] = None
    guidance_scale: float
    steps: int
    preset: Optional[str] = None


class ImagePresetInfo(_Model):
    name: str
    description: str
    prompt: str
    negative_prompt: Optional[str] = None
    width: int
    height: int
    guidance_scale: float
    steps: int
    seed: Optional[int] = None
    count: int


class ImagePresetsResponse(_Model):
    presets: list[ImagePresetInfo]


# An output's index, or its id: an id has a non-digit, so no id reads like an index
# (both are stored as strings) and "distinct" means the same to JSON Schema and to us.
RankItem = Union[Annotated[int, Field(ge=0, le=1000), Integral],
                 Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"[^0-9]")]]


class FeedbackRequest(_Request):
    """Exactly one of ``rating`` or ``ranking``; ``candidate_id`` only with ``rating``."""

    # Each branch says what the other must not have (absent or null), so a body matches one at most.
    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"required": ["rating"], "properties": {"rating": {"not": {"type": "null"}}, "ranking": {"type": "null"}}},
        {"required": ["ranking"], "properties": {"ranking": {"not": {"type": "null"}}, "rating": {"type": "null"},
                                                 "candidate_id": {"type": "null"}}},
    ]})

    request_id: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
    rating: Optional[Annotated[int, Field(ge=1, le=5), Integral]] = None
    ranking: Optional[Annotated[list[RankItem], Field(min_length=2, max_length=16, json_schema_extra={
        "uniqueItems": True})]] = Field(
        default=None, description="Distinct output indices (integers) or ids (strings with a non-digit), best first")
    candidate_id: Optional[Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"[^0-9]")]] = Field(
        default=None, description="With rating: which candidate (id from the generation's candidates) is rated")
    comment: Optional[Annotated[str, StringConstraints(max_length=MAX_COMMENT_CHARS)]] = None

    @model_validator(mode="after")
    def _one_signal(self) -> FeedbackRequest:
        if (self.rating is None) == (self.ranking is None):
            raise ValueError("give exactly one of rating or ranking")
        if self.ranking is not None and self.candidate_id is not None:
            raise ValueError("candidate_id goes with a rating; a ranking names its candidates itself")
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
    image_presets: list[ImagePresetInfo] = Field(description="Named presets of POST /v1/images")


class BatchGenerateRequest(_Request):
    """Several inputs, each generated on its own with the same model and parameters."""

    model: Optional[ModelName] = Field(default=None, description="Model name from GET /v1/models; default text model if omitted")
    inputs: Annotated[list[InputText], Field(min_length=1, max_length=MAX_BATCH)]
    system: Optional[SystemText] = None
    parameters: TextParameters = Field(default_factory=TextParameters)


class BatchTemplateItem(_Request):
    variables: TemplateVariables = Field(default_factory=dict)


class BatchTemplateRequest(_Request):
    """Several variable sets, each rendered and generated on its own."""

    model: Optional[ModelName] = None
    items: Annotated[list[BatchTemplateItem], Field(min_length=1, max_length=MAX_BATCH)]
    parameters: TextParameters = Field(default_factory=TextParameters)


class BatchItemResult(_Model):
    index: int = Field(description="Position of the input in the request")
    status: int = Field(description="The HTTP status this input alone would have had: 200, or its error's")
    output: Optional[str] = None
    finish_reason: Optional[str] = None
    usage: Optional[Usage] = None
    label: Optional[str] = None
    error: Optional[ErrorResponse] = Field(default=None, description="This input's error, as the route's error body")
    retry_after: Optional[int] = Field(default=None, description="Seconds to wait before retrying this input, when known")


class BatchResponse(_Model):
    model: str
    template: Optional[str] = None
    succeeded: int
    failed: int
    results: list[BatchItemResult] = Field(description="One per input, in input order")


class ErrorResponse(_Model):
    """Every error: the function's, and API Gateway's own (its gateway responses use this shape)."""

    error: str = Field(description="Stable error code")
    message: str
    request_id: str
    details: Optional[list[dict[str, Any]]] = None


_ERRORS: dict[int, str] = {
    400: "The request does not match this document: body not JSON (`invalid_json`), or a wrong type, "
         "missing or unknown field, value out of range, or path parameter (`validation_error`, "
         "`details` = [{loc, type, msg}])",
    403: "API Gateway refused the request: no or invalid credentials, an unknown path or method "
         "(`MISSING_AUTHENTICATION_TOKEN`), or the WAF",
    404: "Unknown model, template, job or uploaded object",
    413: "Body over the route's cap, in bytes (`payload_too_large`)",
    415: "Content-Type is not application/json or application/*+json (`unsupported_media_type`)",
    422: "The request matches this document, but the models or templates of this deployment cannot take it: "
         "no default model of the kind, a model of the other kind, a parameter the model's family lacks, "
         "max_new_tokens over the model's budget, template variables, a special token of the model's "
         "prompt format (`bad_request`, `special_tokens_rejected`); or the model refused the input "
         "(`model_validation_error`)",
    429: "Throttled: the stage's rate limit, the model or the feedback table (`throttled`); see Retry-After",
    500: "Internal error (`internal_error`); quote request_id when reporting it",
    502: "The model failed (`model_error`)",
    503: "Model not ready, asleep, scaling up from zero copies or unavailable, or a store not configured "
         "(`model_not_ready`, `model_asleep`, `model_scaling_up`, `model_unavailable`); see Retry-After",
    504: "The model timed out (`model_timeout`)",
}
# What API Gateway or any handler can answer on every operation.
_ALWAYS = (403, 429, 500)
_REQUEST_ID = {"x-request-id": {"description": "The request id (also in error bodies)", "schema": {"type": "string"}}}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying, when known",
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}


def error_responses(*codes: int) -> dict[int, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error codes an operation can return,
    with the ones every operation can return (403, 429, 500) added."""
    entries = {}
    for code in sorted({*codes, *_ALWAYS}):
        headers = {**_REQUEST_ID, **(_RETRY_AFTER if code in (429, 503) else {})}
        entries[code] = {"description": _ERRORS[code], "headers": headers,
                         "content": {"application/json": {"model": ErrorResponse}}}
    return entries


def responses(ok: dict[int, tuple[type[BaseModel], str]], *errors: int,
              links: dict[int, dict[str, Any]] | None = None) -> dict[int, dict[str, Any]]:
    """The complete ``responses`` of an operation: its successes (status -> model,
    description; ``links``: status -> OpenAPI links to the operations its body feeds)
    and its errors (``error_responses``)."""
    entries: dict[int, dict[str, Any]] = {}
    for code, (model, description) in ok.items():
        headers = dict(_REQUEST_ID)
        if code == 202:
            headers["Location"] = {"description": "Where to poll the job", "required": True,
                                   "schema": {"type": "string"}}
        entries[code] = {"description": description, "headers": headers,
                         "content": {"application/json": {"model": model}}}
        if links and code in links:
            entries[code]["links"] = links[code]
    return {**entries, **error_responses(*errors)}
