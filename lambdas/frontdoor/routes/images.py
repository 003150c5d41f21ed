"""Text-to-image route (JumpStart Stable Diffusion)."""

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from frontdoor import context
from frontdoor.config import runtime
from frontdoor.models import ImageRequest, ImageResponse, responses
from inference.observability import metrics
from inference.codecs import ImageParams

router = Router()


@router.post("/v1/images", tags=["generation"], summary="Generate images",
             responses=responses({200: (ImageResponse, "The images")}, 400, 404, 413, 415, 422, 502, 503, 504))
def generate_images(body: ImageRequest) -> ImageResponse:
    """Generate ``count`` JPEGs (base64) from ``prompt``; width and height are multiples of 8."""
    params = ImageParams(prompt=body.prompt, negative_prompt=body.negative_prompt, width=body.width,
                         height=body.height, steps=body.steps, guidance_scale=body.guidance_scale,
                         count=body.count, seed=body.seed)
    result = runtime().images.generate(body.model, params)
    context.model_ms.set(result.model_ms)
    metrics.add_metric(name="ModelLatency", unit=MetricUnit.Milliseconds, value=result.model_ms)
    return ImageResponse(images=result.images, model=result.model, width=result.width, height=result.height,
                         seed=result.seed)
