"""Named Stable Diffusion presets for ``POST /v1/images`` (pure data and one merge rule).

A preset fills every field the caller leaves out; a field the caller sends, even
``null`` for the nullable ones (``negative_prompt``, ``seed``), wins, field by field.
Without a preset the API's own defaults apply (512 x 512, guidance 7.5, 50 steps).
Each preset's values are checked against the request schema's bounds in
tests/lambdas/frontdoor/test_image_presets.py, so a preset can never send what a
caller could not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Fields a preset may set, with the API's defaults when neither caller nor preset does.
DEFAULTS: dict[str, Any] = {
    "prompt": None, "negative_prompt": None, "width": 512, "height": 512,
    "guidance_scale": 7.5, "seed": None, "steps": 50, "count": 1,
}


@dataclass(frozen=True)
class ImagePreset:
    name: str
    description: str
    prompt: str
    width: int
    height: int
    guidance_scale: float
    steps: int
    negative_prompt: str | None = None
    seed: int | None = None
    count: int = 1

    def public(self) -> dict[str, Any]:
        return asdict(self)

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k in DEFAULTS}


# The JumpStart text-to-image notebook's "detailed prompt" example (aws/amazon-sagemaker-examples,
# introduction_to_amazon_algorithms/jumpstart_text_to_image/JumpStart_Stable_Diffusion_Inference_Only.ipynb,
# section 2.6 "Prompt Engineering").
_KITCHEN = ("a photorealistic hyperrealistic render of an interior of a beautifully decorated cozy kitchen by "
            "pixar, greg rutkowski, wlop, artgerm, dramatic moody sunset lighting, long shadows, volumetric, "
            "cinematic atmosphere, octane render, artstation, 8 k")

PRESETS: dict[str, ImagePreset] = {p.name: p for p in (
    ImagePreset(
        name="lecture",
        description="The lecture's image: a detailed prompt with a negative prompt at 720x512 (landscape), "
                    "guidance 7.5, 50 steps and a fixed seed, so the same request gives the same image.",
        prompt=_KITCHEN,
        negative_prompt="blurry, low resolution, deformed, disfigured, watermark, text, signature",
        width=720, height=512, guidance_scale=7.5, steps=50, seed=42,
    ),
    ImagePreset(
        name="astronaut-on-a-horse",
        description="The JumpStart text-to-image notebook's parameter example: 'astronaut on a horse' at "
                    "768x768, guidance 7.5, 50 steps.",
        prompt="astronaut on a horse",
        width=768, height=768, guidance_scale=7.5, steps=50,
    ),
)}
NAMES: tuple[str, ...] = tuple(PRESETS)


def describe() -> str:
    """The presets for the OpenAPI document (JSON Schema has no per-value descriptions)."""
    return "; ".join(f"`{p.name}`: {p.description.rstrip('.')}" for p in PRESETS.values()) + "."


def merge(preset: str | None, given: dict[str, Any]) -> dict[str, Any]:
    """The effective image parameters: ``given`` (the fields the caller sent) over the
    preset over the API's defaults."""
    base = dict(DEFAULTS)
    if preset is not None:
        base.update(PRESETS[preset].values())
    base.update({k: v for k, v in given.items() if k in DEFAULTS})
    return base
