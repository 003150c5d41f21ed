"""OpenAI's Embeddings, Images and Models routes over this deployment's models."""

from __future__ import annotations

import base64
import struct
import time
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from frontdoor import context, tenancy
from frontdoor.config import runtime
from frontdoor.models.openai_media import EmbeddingList, EmbeddingRequest, ImageGenerationRequest, ImagesResponse, ModelObject
from frontdoor.models.openai_responses import OPENAI, openai_responses
from frontdoor.services import image_presets
from frontdoor.services.embeddings import embed_texts
from inference.catalog import ModelSpec
from inference.codecs import ImageParams
from inference.tokens import lower_bound

router = Router()
# The rule of a body's `model` (frontdoor.models.base.ModelName).
ModelPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]


def model_object(spec: ModelSpec) -> ModelObject:
    """A model as OpenAI lists one; who publishes it: the Marketplace seller or JumpStart."""
    owner = "aws-marketplace" if spec.family == "ai21-j2" else "sagemaker-jumpstart"
    return ModelObject(id=spec.name, object="model", created=0, owned_by=owner)


@router.get("/v1/models/<model>", tags=["openai"], summary="A model (OpenAI-compatible)",
            responses=openai_responses(200, ModelObject, 400, 404), openapi_extensions=OPENAI)
def get_model(model: ModelPath) -> ModelObject:
    """One model in OpenAI's shape; 404 ``model_not_found`` for a name that does not exist
    for the caller (unknown, or outside its tier)."""
    tenant = tenancy.tenant_of(router.current_event.raw_event)
    for spec in tenancy.visible_models(runtime().catalog, tenant):
        if spec.name == model:
            return model_object(spec)
    from inference.errors import NotFound

    raise NotFound(f"the model {model!r} does not exist; GET /v1/models lists the models you can use",
                   details=[{"field": "model", "type": "not_found"}])


def _encode(vector: list[float], encoding: str | None) -> list[float] | str:
    """``base64``: the vector as little-endian float32 bytes, as OpenAI encodes it (the SDKs decode it)."""
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


@router.post("/v1/embeddings", tags=["openai"], summary="Embeddings (OpenAI-compatible)",
             responses=openai_responses(200, EmbeddingList, 400, 404, 413, 415, 429, 502, 503, 504),
             openapi_extensions=OPENAI)
def embeddings(body: EmbeddingRequest) -> EmbeddingList:
    """Vectors for ``input`` (a text or a list) from an embedding model, in input order, as
    floats or (``encoding_format: base64``) little-endian float32 bytes."""
    rt = runtime()
    tenant = tenancy.tenant_of(router.current_event.raw_event)
    spec = tenancy.resolve_model(rt.catalog, tenant, body.model, "embedding")
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    admission = tenancy.admit(tenant, sum(lower_bound(t) for t in texts), body.user)
    started = time.perf_counter()
    try:
        vectors, prompt = embed_texts(rt.invoker, spec, texts)
    except BaseException:
        admission.finish(spec.name, None, 0)
        raise
    context.model_ms.set((time.perf_counter() - started) * 1000)
    usage = {"prompt_tokens": prompt, "completion_tokens": 0, "total_tokens": prompt,
             "prompt_tokens_source": "estimate", "completion_tokens_source": "estimate"}
    admission.finish(spec.name, usage, 200)
    data = [{"object": "embedding", "index": i, "embedding": _encode(v, body.encoding_format)}
            for i, v in enumerate(vectors)]
    return EmbeddingList(object="list", data=data, model=spec.name,
                         usage={"prompt_tokens": prompt, "total_tokens": prompt, "prompt_tokens_source": "estimate"})


@router.post("/v1/images/generations", tags=["openai"], summary="Image generation (OpenAI-compatible)",
             responses=openai_responses(200, ImagesResponse, 400, 404, 413, 415, 429, 502, 503, 504),
             openapi_extensions=OPENAI)
def image_generations(body: ImageGenerationRequest) -> ImagesResponse:
    """``n`` images of ``size`` from ``prompt`` as base64 JPEGs (``b64_json``). ``preset``, this
    API's extra field, starts from a named preset of ``POST /v1/images``; ``size`` and ``n``
    sent override it."""
    rt = runtime()
    tenant = tenancy.tenant_of(router.current_event.raw_event)
    spec = tenancy.resolve_model(rt.catalog, tenant, body.model, "image")
    given: dict = {"prompt": body.prompt}
    if body.size is not None:
        width, height = body.size.split("x")
        given.update(width=int(width), height=int(height))
    if body.n is not None:
        given["count"] = body.n
    p = image_presets.merge(body.preset, given)
    params = ImageParams(prompt=p["prompt"], negative_prompt=p["negative_prompt"], width=p["width"],
                         height=p["height"], steps=p["steps"], guidance_scale=p["guidance_scale"],
                         count=p["count"], seed=p["seed"])
    admission = tenancy.admit(tenant, 0, body.user)
    try:
        result = rt.images.generate(spec.name, params)
    except BaseException:
        admission.finish(spec.name, None, 0)
        raise
    context.model_ms.set(result.model_ms)
    admission.finish(spec.name, {"prompt_tokens": 0, "completion_tokens": 0, "prompt_tokens_source": "model",
                                 "completion_tokens_source": "model"}, 200)
    return ImagesResponse(created=int(time.time()), data=[{"b64_json": image} for image in result.images])
