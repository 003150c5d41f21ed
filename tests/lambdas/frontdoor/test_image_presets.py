"""Stable Diffusion presets on POST /v1/images: each preset's exact values, field-by-field
overrides, and what the model is sent."""

from __future__ import annotations

import pytest

from frontdoor.models.images import ImageRequest
from frontdoor.routes.meta import DOCUMENT
from frontdoor.services import image_presets

# The lecture's image: the JumpStart text-to-image notebook's detailed kitchen prompt,
# at 720x512 (a multiple of 8 within 256..1024 on both sides).
LECTURE = {
    "prompt": "a photorealistic hyperrealistic render of an interior of a beautifully decorated cozy kitchen by "
              "pixar, greg rutkowski, wlop, artgerm, dramatic moody sunset lighting, long shadows, volumetric, "
              "cinematic atmosphere, octane render, artstation, 8 k",
    "negative_prompt": "blurry, low resolution, deformed, disfigured, watermark, text, signature",
    "width": 720, "height": 512, "guidance_scale": 7.5, "steps": 50, "seed": 42, "count": 1,
}
ASTRONAUT = {"prompt": "astronaut on a horse", "negative_prompt": None, "width": 768, "height": 768,
             "guidance_scale": 7.5, "steps": 50, "seed": None, "count": 1}


@pytest.mark.parametrize(("name", "expected"), [("lecture", LECTURE), ("astronaut-on-a-horse", ASTRONAUT)])
def test_each_preset_sends_its_exact_seed_values(name, expected):
    assert image_presets.merge(name, {}) == expected
    # Every value is one a caller could send: the request schema accepts it field by field.
    ImageRequest.model_validate({"preset": name, **{k: v for k, v in expected.items() if v is not None}})


def test_every_preset_is_pinned_here():
    assert set(image_presets.NAMES) == {"lecture", "astronaut-on-a-horse"}


def test_callers_override_a_preset_field_by_field():
    body = ImageRequest.model_validate({"preset": "lecture", "width": 512, "seed": None, "prompt": "a red barn"})
    merged = image_presets.merge(body.preset, body.given())
    assert merged == {**LECTURE, "width": 512, "seed": None, "prompt": "a red barn"}
    # A null prompt beside a preset means the preset's.
    body = ImageRequest.model_validate({"preset": "lecture", "prompt": None})
    assert image_presets.merge(body.preset, body.given())["prompt"] == LECTURE["prompt"]


def test_without_a_preset_the_api_defaults_apply():
    body = ImageRequest.model_validate({"prompt": "a lighthouse"})
    assert image_presets.merge(None, body.given()) == {
        "prompt": "a lighthouse", "negative_prompt": None, "width": 512, "height": 512, "guidance_scale": 7.5,
        "seed": None, "steps": 50, "count": 1}


def test_the_document_lists_the_presets_with_their_descriptions():
    import json

    schema = json.loads(DOCUMENT.read_text())["components"]["schemas"]["ImageRequest"]
    [enum] = [branch["enum"] for branch in schema["properties"]["preset"]["anyOf"] if "enum" in branch]
    assert enum == ["lecture", "astronaut-on-a-horse"]
    assert "`lecture`: The lecture's image" in schema["properties"]["preset"]["description"]
    # prompt or preset: the schema says it, as the function does.
    # (a top-level `not`, not an anyOf: generated clients keep the properties; test_generated_client.py)
    assert schema["not"] == {"properties": {"prompt": {"type": "null"}, "preset": {"type": "null"}}}
    assert "default" not in schema["properties"]["width"]


# ------------------------------------------------------------------ over HTTP
def test_lecture_preset_sends_the_seed_payload(api, emulator):
    reply = api.post("/v1/images", {"preset": "lecture"})
    assert reply.status == 200, reply.body
    assert (reply.body["width"], reply.body["height"], reply.body["seed"]) == (720, 512, 42)
    assert (reply.body["guidance_scale"], reply.body["steps"], reply.body["preset"]) == (7.5, 50, "lecture")
    [call] = emulator.calls()
    assert call["body"] == {"prompt": LECTURE["prompt"], "negative_prompt": LECTURE["negative_prompt"],
                            "width": 720, "height": 512, "num_inference_steps": 50, "guidance_scale": 7.5,
                            "num_images_per_prompt": 1, "seed": 42}


def test_preset_fields_are_overridden_one_by_one(api, emulator):
    reply = api.post("/v1/images", {"preset": "lecture", "height": 720, "seed": None, "count": 2})
    assert reply.status == 200 and len(reply.body["images"]) == 2
    [call] = emulator.calls()
    assert (call["body"]["width"], call["body"]["height"]) == (720, 720)
    assert "seed" not in call["body"] and call["body"]["negative_prompt"] == LECTURE["negative_prompt"]


def test_presets_are_listed(api):
    reply = api.get("/v1/images/presets")
    assert reply.status == 200
    assert {p["name"]: {k: v for k, v in p.items() if k not in ("name", "description")}
            for p in reply.body["presets"]} == {"lecture": LECTURE, "astronaut-on-a-horse": ASTRONAUT}


@pytest.mark.parametrize("body", [{}, {"preset": "nope"}, {"preset": None}, {"preset": "lecture", "width": 721},
                                  {"preset": "lecture", "width": None}, {"prompt": None}])
def test_bad_image_requests_are_400(api, emulator, body):
    reply = api.post("/v1/images", body)
    assert reply.status == 400 and reply.body["error"] == "validation_error", reply.body
    assert emulator.calls() == []
