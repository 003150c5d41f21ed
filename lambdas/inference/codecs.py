"""Wire formats of the model containers: build request bodies, parse responses.

One codec per family on a shared interface, resolved through a registry, so a
new family is one class and one registry line. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from inference.errors import ModelFailed
from inference.params import TGI_FAMILIES, TextParams

JSON = "application/json"


@dataclass(frozen=True)
class Generation:
    text: str
    generated_tokens: int | None = None
    finish_reason: str | None = None


@dataclass(frozen=True)
class WireRequest:
    body: bytes
    content_type: str = JSON
    accept: str = JSON


def _decode(raw: bytes, family: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFailed(f"the {family} model returned a response that is not JSON") from exc


class TextCodec(ABC):
    family: str

    @abstractmethod
    def build(self, prompt: str, params: TextParams) -> WireRequest: ...

    @abstractmethod
    def parse(self, raw: bytes) -> Generation: ...


class TgiCodec(TextCodec):
    """Hugging Face TGI: {"inputs", "parameters"} -> [{"generated_text", "details"}]."""

    def __init__(self, family: str) -> None:
        self.family = family

    def build(self, prompt: str, params: TextParams) -> WireRequest:
        parameters: dict[str, Any] = {"max_new_tokens": params.max_new_tokens, **params.options}
        if params.stop:
            parameters["stop"] = list(params.stop)
        # details=true makes TGI report generated_tokens and finish_reason, which
        # give callers real usage numbers; return_full_text=false keeps the prompt out.
        parameters.update(return_full_text=False, details=True)
        return WireRequest(json.dumps({"inputs": prompt, "parameters": parameters}).encode())

    def parse(self, raw: bytes) -> Generation:
        data = _decode(raw, self.family)
        item = data[0] if isinstance(data, list) and data else data
        if not isinstance(item, dict) or not isinstance(item.get("generated_text"), str):
            raise ModelFailed(f"the {self.family} model returned an unexpected response shape")
        details = item.get("details") if isinstance(item.get("details"), dict) else {}
        tokens = details.get("generated_tokens")
        return Generation(item["generated_text"], tokens if isinstance(tokens, int) else None,
                          details.get("finish_reason"))


class Ai21Codec(TextCodec):
    """AI21 Jurassic-2 model package: {prompt, maxTokens, ...} -> completions[i].data.text."""

    family = "ai21-j2"

    def build(self, prompt: str, params: TextParams) -> WireRequest:
        body: dict[str, Any] = {"prompt": prompt, "maxTokens": params.max_new_tokens, "numResults": 1}
        if "temperature" in params.options:
            body["temperature"] = params.options["temperature"]
        if "top_p" in params.options:
            body["topP"] = params.options["top_p"]
        if params.stop:
            body["stopSequences"] = list(params.stop)
        return WireRequest(json.dumps(body).encode())

    def parse(self, raw: bytes) -> Generation:
        data = _decode(raw, self.family)
        try:
            completion = data["completions"][0]
            text = completion["data"]["text"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ModelFailed("the ai21-j2 model returned an unexpected response shape") from exc
        if not isinstance(text, str):
            raise ModelFailed("the ai21-j2 model returned an unexpected response shape")
        tokens = completion["data"].get("tokens")
        reason = (completion.get("finishReason") or {}).get("reason")
        return Generation(text, len(tokens) if isinstance(tokens, list) and tokens else None, reason)


TEXT_CODECS: dict[str, TextCodec] = {
    **{family: TgiCodec(family) for family in TGI_FAMILIES},
    "ai21-j2": Ai21Codec(),
}


@dataclass(frozen=True)
class ImageParams:
    prompt: str
    width: int
    height: int
    steps: int
    guidance_scale: float
    count: int
    negative_prompt: str | None = None
    seed: int | None = None


class StableDiffusionCodec:
    """JumpStart txt2img: JSON in, ``Accept: application/json;jpeg`` -> base64 JPEGs."""

    family = "stable-diffusion"
    accept = "application/json;jpeg"

    def build(self, p: ImageParams) -> WireRequest:
        body: dict[str, Any] = {
            "prompt": p.prompt,
            "width": p.width,
            "height": p.height,
            "num_inference_steps": p.steps,
            "guidance_scale": p.guidance_scale,
            "num_images_per_prompt": p.count,
        }
        if p.negative_prompt:
            body["negative_prompt"] = p.negative_prompt
        if p.seed is not None:
            body["seed"] = p.seed
        return WireRequest(json.dumps(body).encode(), accept=self.accept)

    def parse(self, raw: bytes) -> list[str]:
        data = _decode(raw, self.family)
        images = data.get("generated_images") if isinstance(data, dict) else None
        if not isinstance(images, list) or not images or not all(isinstance(i, str) for i in images):
            raise ModelFailed("the stable-diffusion model returned no images")
        return images


def text_codec(family: str) -> TextCodec:
    return TEXT_CODECS[family]
