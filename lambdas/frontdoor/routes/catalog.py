"""Read-only discovery routes: models and templates."""

from aws_lambda_powertools.event_handler.api_gateway import Router

from frontdoor import tenancy
from frontdoor.config import runtime
from frontdoor.models.catalog import ModelInfo, ModelsResponse, TemplateInfo, TemplatesResponse
from frontdoor.models.responses import responses

router = Router()


@router.get("/v1/models", tags=["catalog"], summary="List the configured models",
            responses=responses({200: (ModelsResponse, "The models")}))
def list_models() -> ModelsResponse:
    """The models this deployment hosts (for a tenant: its tier's), with kind, token limits
    and instance, and the same list in OpenAI's shape (``object: list``, ``data``).

    Endpoint names are deliberately absent: clients address models by name.
    """
    from frontdoor.routes.openai_media import model_object

    specs = tenancy.visible_models(runtime().catalog, tenancy.tenant_of(router.current_event.raw_event))
    return ModelsResponse(models=[ModelInfo(**m.public()) for m in specs], data=[model_object(m) for m in specs])


@router.get("/v1/templates", tags=["catalog"], summary="List the prompt templates",
            responses=responses({200: (TemplatesResponse, "The templates")}))
def list_templates() -> TemplatesResponse:
    """Every template with its variables, defaults and generation parameters, and the
    named presets of ``POST /v1/images``."""
    from frontdoor.routes.images import preset_infos

    return TemplatesResponse(templates=[TemplateInfo(**t.public()) for t in runtime().templates.all()],
                             image_presets=preset_infos())
