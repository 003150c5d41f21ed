"""Text-to-image routes (JumpStart Stable Diffusion): generation and its named presets."""

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from frontdoor import context
from frontdoor.config import runtime
from frontdoor.models.images import ImagePresetInfo, ImagePresetsResponse, ImageRequest, ImageResponse
from frontdoor.models.responses import responses
from frontdoor.services import image_presets
from inference.observability import metrics
from inference.codecs import ImageParams

router = Router()


def preset_infos() -> list[ImagePresetInfo]:
    return [ImagePresetInfo(**p.public()) for p in image_presets.PRESETS.values()]


@router.post("/v1/images", tags=["generation"], summary="Generate images",
             responses=responses({200: (ImageResponse, "The images")}, 400, 404, 413, 415, 422, 502, 503, 504))
def generate_images(body: ImageRequest) -> ImageResponse:
    """Generate ``count`` JPEGs (base64) from ``prompt``; width and height are multiples of 8.

    ``preset`` (``GET /v1/images/presets``) fills every field the request leaves out;
    each field sent overrides the preset's, ``null`` included for ``negative_prompt``
    and ``seed``.
    """
    p = image_presets.merge(body.preset, body.given())
    params = ImageParams(prompt=p["prompt"], negative_prompt=p["negative_prompt"], width=p["width"],
                         height=p["height"], steps=p["steps"], guidance_scale=p["guidance_scale"],
                         count=p["count"], seed=p["seed"])
    result = runtime().images.generate(body.model, params)
    context.model_ms.set(result.model_ms)
    metrics.add_metric(name="ModelLatency", unit=MetricUnit.Milliseconds, value=result.model_ms)
    return ImageResponse(images=result.images, model=result.model, width=result.width, height=result.height,
                         seed=result.seed, guidance_scale=params.guidance_scale, steps=params.steps,
                         preset=body.preset)


@router.get("/v1/images/presets", tags=["catalog"], summary="List the image presets",
            responses=responses({200: (ImagePresetsResponse, "The presets")}))
def list_image_presets() -> ImagePresetsResponse:
    """Every named preset of ``POST /v1/images`` with all its values."""
    return ImagePresetsResponse(presets=preset_infos())
