"""Text generation: raw generation, template runs, and both in batches."""

from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import Field, StringConstraints

from frontdoor.models.base import ApiModel, Integral, ModelName, RequestModel
from frontdoor.models.responses import ErrorResponse
from frontdoor.services.batch import MAX_BATCH
from frontdoor.services.generation import MAX_CANDIDATES, SEED_SPACE
from frontdoor.services.templating import MAX_PROMPT_CHARS
from inference.params import MAX_STOP_SEQUENCES

StopSequence = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class TextParameters(RequestModel):
    """Generation knobs; the model family decides which are allowed (400 otherwise)."""

    # One field per name of inference.params.TEXT_PARAMETERS, in its order (a test keeps them equal).
    max_new_tokens: Optional[Annotated[int, Field(ge=1, le=4096), Integral]] = None
    temperature: Optional[Annotated[float, Field(ge=0, le=2)]] = Field(
        default=None, description="0 means greedy decoding")
    top_p: Optional[Annotated[float, Field(gt=0, lt=1)]] = None
    top_k: Optional[Annotated[int, Field(ge=1, le=500), Integral]] = None
    do_sample: Optional[bool] = None
    repetition_penalty: Optional[Annotated[float, Field(gt=0, le=10)]] = None
    stop: Optional[Annotated[list[StopSequence], Field(max_length=MAX_STOP_SEQUENCES)]] = None
    seed: Optional[Annotated[int, Field(ge=0, le=SEED_SPACE), Integral]] = None

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


Candidates = Optional[Annotated[int, Field(ge=1, le=MAX_CANDIDATES), Integral]]
_CANDIDATES = ("Return this many outputs of the prompt, each with an id for POST /v1/feedback to rank or rate. "
               "More than one samples with a different seed each (do_sample on); greedy parameters "
               "(temperature 0, do_sample false) are refused (422)")
InputText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PROMPT_CHARS)]
SystemText = Annotated[str, StringConstraints(max_length=4000)]
TemplateVariables = dict[Annotated[str, StringConstraints(min_length=1, max_length=64)],
                         Annotated[str, StringConstraints(max_length=MAX_PROMPT_CHARS)]]


class GenerateRequest(RequestModel):
    model: Optional[ModelName] = Field(default=None, description="Model name from GET /v1/models; default text model if omitted")
    inputs: InputText
    system: Optional[SystemText] = None
    parameters: TextParameters = Field(default_factory=TextParameters)
    candidates: Candidates = Field(default=None, description=_CANDIDATES)


class Usage(ApiModel):
    input_tokens_estimate: int
    max_new_tokens: int
    generated_tokens: Optional[int] = None


class CandidateOutput(ApiModel):
    id: str = Field(description="Rank or rate this output by id in POST /v1/feedback (with the response's x-request-id)")
    output: str
    finish_reason: Optional[str] = None
    usage: Usage
    seed: Optional[int] = Field(default=None, description="The sampling seed (null for families without one)")
    label: Optional[str] = None


class GenerateResponse(ApiModel):
    output: str = Field(description="The (first candidate's) output")
    model: str
    finish_reason: Optional[str] = None
    usage: Usage = Field(description="With candidates, generated_tokens counts every candidate's tokens")
    candidates: Optional[list[CandidateOutput]] = Field(
        default=None, description="Every output with its id, when the request asked for candidates")


class TemplateRunRequest(RequestModel):
    model: Optional[ModelName] = None
    variables: TemplateVariables = Field(default_factory=dict)
    parameters: TextParameters = Field(default_factory=TextParameters)
    candidates: Candidates = Field(default=None, description=_CANDIDATES)


class TemplateRunResponse(GenerateResponse):
    template: str
    label: Optional[str] = Field(default=None, description="Normalized label for label templates")



class BatchGenerateRequest(RequestModel):
    """Several inputs, each generated on its own with the same model and parameters."""

    model: Optional[ModelName] = Field(default=None, description="Model name from GET /v1/models; default text model if omitted")
    inputs: Annotated[list[InputText], Field(min_length=1, max_length=MAX_BATCH)]
    system: Optional[SystemText] = None
    parameters: TextParameters = Field(default_factory=TextParameters)


class BatchTemplateItem(RequestModel):
    variables: TemplateVariables = Field(default_factory=dict)


class BatchTemplateRequest(RequestModel):
    """Several variable sets, each rendered and generated on its own."""

    model: Optional[ModelName] = None
    items: Annotated[list[BatchTemplateItem], Field(min_length=1, max_length=MAX_BATCH)]
    parameters: TextParameters = Field(default_factory=TextParameters)


class BatchItemResult(ApiModel):
    index: int = Field(description="Position of the input in the request")
    status: int = Field(description="The HTTP status this input alone would have had: 200, or its error's")
    output: Optional[str] = None
    finish_reason: Optional[str] = None
    usage: Optional[Usage] = None
    label: Optional[str] = None
    error: Optional[ErrorResponse] = Field(default=None, description="This input's error, as the route's error body")
    retry_after: Optional[int] = Field(default=None, description="Seconds to wait before retrying this input, when known")


class BatchResponse(ApiModel):
    model: str
    template: Optional[str] = None
    succeeded: int
    failed: int
    results: list[BatchItemResult] = Field(description="One per input, in input order")

