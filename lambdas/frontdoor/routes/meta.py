"""The API's own OpenAPI document: the committed one that ``frontdoor.contract``
generates from the routes and models (a test keeps the two equal), served as is."""

from functools import lru_cache
from pathlib import Path

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

router = Router()
DOCUMENT = Path(__file__).resolve().parent.parent / "openapi.json"


@lru_cache(maxsize=1)
def _document() -> str:
    return DOCUMENT.read_text(encoding="utf-8")


@router.get("/v1/openapi.json", tags=["meta"], summary="OpenAPI document", include_in_schema=False)
def openapi():  # no return annotation: a Response has no schema to validate against
    """The OpenAPI 3 document of this API."""
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=_document())
