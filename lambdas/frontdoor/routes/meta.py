"""The API's own OpenAPI document, generated from the registered routes."""

from functools import lru_cache

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

router = Router()


@lru_cache(maxsize=1)
def _schema() -> str:
    # Imported here: the app module imports this router, and the schema needs the app.
    from frontdoor.api import app

    return app.get_openapi_json_schema(
        title="Foundation model front door",
        version="1.0.0",
        description="Generation, prompt templates, images and feedback over SageMaker JumpStart models.",
    )


@router.get("/v1/openapi.json", tags=["meta"], summary="OpenAPI document", include_in_schema=False)
def openapi():  # no return annotation: a Response has no schema to validate against
    """The OpenAPI 3 document of this API, reflecting the routes actually mounted."""
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=_schema())
