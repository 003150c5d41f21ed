"""Images: ``POST /v1/images`` and its named presets."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from frontdoor.models.base import ApiModel, Integral, ModelName, RequestModel, at_least_one
from frontdoor.services import image_presets
from frontdoor.services.generation import SEED_SPACE
from inference.params import IMAGE_MAX_SIDE, IMAGE_MIN_SIDE, IMAGE_SIDE_STEP

_DEFAULTS = image_presets.DEFAULTS


def _no_default(schema: dict[str, Any]) -> None:
    """A field whose default depends on ``preset``: the schema states no default."""
    schema.pop("default", None)


ImageSide = Annotated[int, Field(ge=IMAGE_MIN_SIDE, le=IMAGE_MAX_SIDE, multiple_of=IMAGE_SIDE_STEP), Integral]
PresetName = Literal[image_presets.NAMES]  # type: ignore[valid-type]


class ImageRequest(RequestModel):
    """``prompt``, or a ``preset`` whose fields the caller may override one by one."""

    model_config = ConfigDict(json_schema_extra=at_least_one("prompt", "preset"))

    model: Optional[ModelName] = None
    preset: Optional[PresetName] = Field(
        default=None, description="A named preset (GET /v1/images/presets) that fills every field not sent: "
                                  + image_presets.describe())
    prompt: Optional[Annotated[str, StringConstraints(min_length=1, max_length=2000)]] = Field(
        default=None, description="Required unless preset is given")
    negative_prompt: Optional[Annotated[str, StringConstraints(max_length=2000)]] = Field(
        default=None, description="Default: the preset's, else none; null sends none")
    width: ImageSide = Field(default=None, description=f"Default: the preset's, else {_DEFAULTS['width']}",
                             json_schema_extra=_no_default)
    height: ImageSide = Field(default=None, description=f"Default: the preset's, else {_DEFAULTS['height']}",
                              json_schema_extra=_no_default)
    guidance_scale: Annotated[float, Field(ge=0, le=20)] = Field(
        default=None, description=f"Default: the preset's, else {_DEFAULTS['guidance_scale']}",
        json_schema_extra=_no_default)
    seed: Optional[Annotated[int, Field(ge=0, le=SEED_SPACE), Integral]] = Field(
        default=None, description="Default: the preset's, else random; null sends none")
    steps: Annotated[int, Field(ge=1, le=100), Integral] = Field(
        default=None, description=f"Default: the preset's, else {_DEFAULTS['steps']}", json_schema_extra=_no_default)
    count: Annotated[int, Field(ge=1, le=4), Integral] = Field(
        default=None, description=f"Default {_DEFAULTS['count']}", json_schema_extra=_no_default)

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



class ImageResponse(ApiModel):
    images: list[str] = Field(description="Base64-encoded JPEGs")
    format: Literal["jpeg"] = "jpeg"
    model: str
    width: int
    height: int
    seed: Optional[int] = None
    guidance_scale: float
    steps: int
    preset: Optional[str] = None


class ImagePresetInfo(ApiModel):
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


class ImagePresetsResponse(ApiModel):
    presets: list[ImagePresetInfo]
