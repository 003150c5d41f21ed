"""OpenAI's Embeddings, Images and Models shapes, and its error body, as this API
answers them (docs/openai-compatibility.md lists every field)."""

from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import Field, StringConstraints

from frontdoor.models.base import ApiModel, Integral, ModelName, RequestModel
from frontdoor.services.image_presets import NAMES as PRESET_NAMES

# Stable Diffusion 2.1 base draws at 512x512; the others are the sizes of OpenAI's own image
# API that the native route's rules (multiples of 8, 256..1024) take too.
IMAGE_SIZES = ("256x256", "512x512", "768x768", "1024x1024", "512x768", "768x512")
MAX_EMBEDDING_INPUTS = 64
EmbeddingText = Annotated[str, StringConstraints(min_length=1, max_length=32_768)]


class EmbeddingRequest(RequestModel):
    model: ModelName = Field(description="An embedding model's name from GET /v1/models")
    input: Union[EmbeddingText, Annotated[list[EmbeddingText], Field(min_length=1, max_length=MAX_EMBEDDING_INPUTS)]] = Field(
        description="A text or a list of texts (token arrays are refused: no tokenizer ships with the API)")
    encoding_format: Optional[Literal["float", "base64"]] = Field(
        default=None, description="`base64`: little-endian float32 bytes, base64-encoded (what the openai SDKs ask for)")
    user: Optional[Annotated[str, StringConstraints(max_length=256)]] = None


class Embedding(ApiModel):
    object: Literal["embedding"]
    index: int
    embedding: Union[list[float], str]


class EmbeddingUsage(ApiModel):
    prompt_tokens: int
    total_tokens: int
    prompt_tokens_source: Literal["model", "estimate"]


class EmbeddingList(ApiModel):
    object: Literal["list"]
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


class ImageGenerationRequest(RequestModel):
    prompt: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    model: Optional[ModelName] = Field(default=None, description="An image model's name; the default image model if omitted")
    n: Optional[Annotated[int, Field(ge=1, le=4), Integral]] = None
    size: Optional[Literal[IMAGE_SIZES]] = Field(default=None, description="Default: the preset's, else 512x512")  # type: ignore[valid-type]
    response_format: Optional[Literal["b64_json"]] = Field(
        default=None, description="Only b64_json: images are not stored, so there is no URL to give")
    user: Optional[Annotated[str, StringConstraints(max_length=256)]] = None
    preset: Optional[Literal[PRESET_NAMES]] = Field(  # type: ignore[valid-type]
        default=None, description="This API's extra field: a named preset of POST /v1/images (GET /v1/images/presets) "
                                  "for steps, guidance, negative prompt and size")


class ImageData(ApiModel):
    b64_json: str
    revised_prompt: Optional[str] = None


class ImagesResponse(ApiModel):
    created: int
    data: list[ImageData]


class ModelObject(ApiModel):
    id: str
    object: Literal["model"]
    created: int = Field(description="0: this API does not know when the model was published")
    owned_by: str


class ModelList(ApiModel):
    object: Literal["list"]
    data: list[ModelObject]


class OpenAIErrorDetail(ApiModel):
    message: str
    type: str = Field(description="invalid_request_error, authentication_error, permission_error, not_found_error, "
                                  "rate_limit_error, insufficient_quota, server_error")
    param: Optional[str] = Field(default=None, description="The request field at fault, when one is")
    code: Optional[str] = Field(default=None, description="e.g. context_length_exceeded, model_not_found, "
                                                         "insufficient_quota, rate_limit_exceeded")


class OpenAIErrorResponse(ApiModel):
    """Every error of the OpenAI-compatible routes that this API's functions answer."""

    error: OpenAIErrorDetail
