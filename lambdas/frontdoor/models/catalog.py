"""The catalog: the configured models and the prompt templates."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import Field

from frontdoor.models.base import ApiModel
from frontdoor.models.images import ImagePresetInfo
from frontdoor.models.openai_media import ModelObject
from inference.catalog import KINDS


class ModelInfo(ApiModel):
    name: str
    model_id: str
    family: str
    kind: Literal[KINDS]  # type: ignore[valid-type]
    max_input_length: Optional[int] = None
    max_total_tokens: Optional[int] = None
    instance_type: Optional[str] = None
    instance_count: Optional[int] = None
    default: bool


class ModelsResponse(ApiModel):
    """This API's list (``models``) and OpenAI's (``object``, ``data``) in one body, so both
    kinds of client read ``GET /v1/models``."""

    models: list[ModelInfo]
    object: Literal["list"] = "list"
    data: list[ModelObject] = Field(description="The same models as OpenAI lists them")


class VariableInfo(ApiModel):
    name: str
    description: str
    default: Optional[str] = None
    required: bool
    max_chars: int


class TemplateInfo(ApiModel):
    name: str
    description: str
    style: str
    system: Optional[str] = None
    template: str
    variables: list[VariableInfo]
    parameters: dict[str, Any]
    output: dict[str, Any]
    source: str


class TemplatesResponse(ApiModel):
    templates: list[TemplateInfo]
    image_presets: list[ImagePresetInfo] = Field(description="Named presets of POST /v1/images")

