"""The API contract, generated from the request/response models and the routes.

``openapi.json`` beside this module is the generated document, committed: the
front door serves it (no schema building in a cold start), the Api stack builds
API Gateway's request models from it, and a test fails when it differs from
what the mounted routes generate. Regenerate after changing a model or a route::

    python -m frontdoor.contract --write
"""

from __future__ import annotations

import json
import sys

from frontdoor.routes.meta import DOCUMENT
TITLE = "Foundation model front door"
VERSION = "1.0.0"
DESCRIPTION = "Generation, prompt templates, images, summarization and feedback over SageMaker models."


# Who may call: every method of the deployed API needs one of these (config `api.auth`:
# `iam`, the default, or `cognito`), as `stacks/constructs/api_auth.py` sets it up;
# spelled as API Gateway's own OpenAPI export spells them.
SECURITY_SCHEMES = {
    "sigv4": {"type": "apiKey", "name": "Authorization", "in": "header",
              "x-amazon-apigateway-authtype": "awsSigv4",
              "description": "AWS Signature Version 4 (service `execute-api`) with IAM credentials "
                             "allowed to call execute-api:Invoke on the API (api.auth: iam)"},
    "cognito": {"type": "apiKey", "name": "Authorization", "in": "header",
                "x-amazon-apigateway-authtype": "cognito_user_pools",
                "description": "The ID token of a user of the deployment's Cognito user pool (api.auth: cognito)"},
    # A Lambda REQUEST authorizer is API Gateway's `custom` authtype; OpenAPI's http bearer scheme
    # is what a generated client needs to send `Authorization: Bearer <key>`.
    "bearer": {"type": "http", "scheme": "bearer", "x-amazon-apigateway-authtype": "custom",
               "description": "A tenant key, `Authorization: Bearer <key>`, as every OpenAI client sends it "
                              "(api.auth: tenant_keys; docs/tenants.md)"},
}
SECURITY = [{"sigv4": []}, {"cognito": []}, {"bearer": []}]


def generate() -> dict:
    """The OpenAPI 3 document of the mounted routes."""
    from frontdoor.api import app

    document = json.loads(app.get_openapi_json_schema(
        title=TITLE, version=VERSION, description=DESCRIPTION, security_schemes=SECURITY_SCHEMES,
        security=SECURITY))
    return _without_unused_validation_error(document)


def _without_unused_validation_error(document: dict) -> dict:
    """Powertools documents a 422 `HTTPValidationError` on every operation; this API
    answers validation errors with 400 `ErrorResponse` (``frontdoor.api``), so the
    entry is dropped wherever a route did not declare its own 422, and the error
    schemas nothing refers to with it."""
    ref = "#/components/schemas/HTTPValidationError"
    for item in document.get("paths", {}).values():
        for operation in item.values():
            unprocessable = operation.get("responses", {}).get("422", {})
            if unprocessable.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref") == ref:
                del operation["responses"]["422"]
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):  # referrers first
        if f'"#/components/schemas/{name}"' not in json.dumps(document):
            schemas.pop(name, None)
    return document


def render(document: dict) -> str:
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render(generate())
    if "--write" in argv:
        DOCUMENT.write_text(text, encoding="utf-8")
        print(f"wrote {DOCUMENT}")
        return 0
    if not DOCUMENT.exists() or DOCUMENT.read_text(encoding="utf-8") != text:
        print(f"{DOCUMENT} is stale; run: python -m frontdoor.contract --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
