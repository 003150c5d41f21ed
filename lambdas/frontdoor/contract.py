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


def generate() -> dict:
    """The OpenAPI 3 document of the mounted routes."""
    from frontdoor.api import app

    return json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION))


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
