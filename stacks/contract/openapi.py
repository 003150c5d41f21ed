"""The front door's API contract, read at synth: which routes API Gateway has and
which request models it validates bodies with.

The contract is `lambdas/frontdoor/openapi.json`, the OpenAPI 3.1 document the
front door generates from its pydantic models (`python -m frontdoor.contract
--write`, run in `lambdas/`) and serves. It is read here on every synth, never
copied: a model or route change reaches the gateway with the next synth, and
tests/stacks/test_api_contract.py fails if the two disagree.

API Gateway models are JSON Schema draft 4 (API Gateway Developer Guide, "Data
models for REST APIs"; API Reference, CreateModel: "For application/json models,
this should be JSON schema draft 4 model. The maximum size of the model is 400
KB."), while OpenAPI 3.1 schemas are JSON Schema 2020-12. `draft4` converts one
to the other:

- `$ref`s to `#/components/schemas/...` are inlined (a model is self-contained;
  a cycle is refused);
- numeric `exclusiveMinimum`/`exclusiveMaximum` become draft 4's
  `minimum`/`maximum` + boolean flag; `const` becomes a one-value `enum`;
  `prefixItems`, `dependentRequired`/`dependentSchemas` and OpenAPI 3.0's
  `nullable` get their draft-4 spelling;
- annotations (`title`, `description`, `default`, `examples`, `discriminator`,
  ...) are dropped: they validate nothing and only grow the template. So is
  `format`, an annotation in 2020-12 but an assertion in draft 4, whose checks
  need not match pydantic's;
- `propertyNames`, `if`/`then`/`else`, `contains` and `unevaluated*` have no
  draft-4 form and are dropped: the gateway then accepts a little more than the
  function, which still validates every body itself (422);
- any other keyword fails the synth, so a new construct in the document is a
  decision, not a silent gap.

Everything else (`type`, `enum`, `required`, `properties`,
`additionalProperties`, bounds, lengths, `pattern`, `anyOf`/`oneOf`/`allOf`/
`not`, ...) is kept as is. Pure: no aws-cdk-lib.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

JSON = "application/json"
EVENT_STREAM = "text/event-stream"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
# Served but left out of the document (include_in_schema=False): the document itself.
UNDOCUMENTED_ROUTES = (("/v1/openapi.json", "GET"),)

_COMPONENTS = "#/components/schemas/"
_STATUS = re.compile(r"^[1-5][0-9][0-9]$")
# Draft-4 keywords kept as they are (their subschemas converted).
_SCHEMA_VALUED = {"additionalItems", "additionalProperties", "not"}
_SCHEMA_LISTS = {"allOf", "anyOf", "oneOf"}
_SCHEMA_MAPS = {"properties", "patternProperties", "definitions"}
_PLAIN = {
    "type", "enum", "required", "minimum", "maximum", "multipleOf", "minLength", "maxLength", "pattern",
    "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
}
# Annotations: validate nothing (`format` asserts in draft 4, only annotates in 2020-12).
_ANNOTATIONS = {
    "title", "description", "default", "examples", "example", "discriminator", "deprecated", "readOnly",
    "writeOnly", "$comment", "externalDocs", "xml", "format", "contentMediaType", "contentEncoding",
    "contentSchema",
}
# Assertions with no draft-4 form: dropped, so the gateway is looser; the function validates them.
LOOSENED = {"propertyNames", "if", "then", "else", "contains", "minContains", "maxContains",
            "unevaluatedProperties", "unevaluatedItems"}


# frontdoor.models.openai_responses.OPENAI_EXTENSION (the Lambda package's name for it).
ERROR_SHAPE_EXTENSION = "x-fm-error-shape"


class ContractError(ValueError):
    """The document says something API Gateway's models cannot."""


@dataclass(frozen=True)
class Operation:
    """One route of the contract."""

    path: str
    """As in the document, e.g. `/v1/jobs/{job_id}`."""
    method: str
    """Upper case, e.g. `POST`."""
    statuses: tuple[str, ...]
    """Documented response codes (`default` and ranges like `4XX` left out), sorted."""
    request_model: dict | None
    """The request body's schema in draft 4 (for `application/json`), or None without a body."""
    streams: bool = False
    """Its success answer is `text/event-stream`: API Gateway streams it from the streaming
    function (`ResponseTransferMode: STREAM`)."""
    function_validates: bool = False
    """An OpenAI-compatible route (`x-fm-error-shape: openai`): its function validates the body,
    so that a refusal has OpenAI's error shape, and API Gateway adds no body validator (its
    BAD_REQUEST_BODY answer is the API's own shape, which OpenAI's clients cannot read)."""


def document_path() -> Path:
    """`openapi.json` of the `frontdoor` package, found where Python imports it from
    (lambdas/ is on the venv's path: `make setup`). Only the package is imported, not
    its modules (which need Powertools)."""
    try:
        return Path(str(resources.files("frontdoor").joinpath("openapi.json")))
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "the Lambda packages under lambdas/ are not importable: run `make setup` (it puts "
            "lambdas/ on the venv's path)", name=exc.name,
        ) from exc


def load(path: Path | None = None) -> dict:
    return json.loads((path or document_path()).read_text(encoding="utf-8"))


def operations(document: dict) -> list[Operation]:
    """Every operation of the document, plus `UNDOCUMENTED_ROUTES`, in document order."""
    components = document.get("components", {}).get("schemas", {})
    found = []
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            where = f"{method.upper()} {path}"
            found.append(Operation(
                path=path,
                method=method.upper(),
                statuses=tuple(sorted(s for s in op.get("responses", {}) if _STATUS.match(s))),
                request_model=_request_model(op.get("requestBody"), components, where),
                streams=streams(op),
                function_validates=op.get(ERROR_SHAPE_EXTENSION) == "openai",
            ))
    documented = {(o.path, o.method) for o in found}
    for path, method in UNDOCUMENTED_ROUTES:
        if (path, method) in documented:
            raise ContractError(f"{method} {path} is in the document now: remove it from UNDOCUMENTED_ROUTES")
        found.append(Operation(path=path, method=method, statuses=(), request_model=None))
    return found


def streams(operation: dict) -> bool:
    """Whether an operation answers server-sent events (its 2xx content is `text/event-stream`)."""
    return any(EVENT_STREAM in (response.get("content") or {})
               for status, response in operation.get("responses", {}).items() if status.startswith("2"))


def _request_model(body: dict | None, components: dict, where: str) -> dict | None:
    if not body:
        return None
    if "$ref" in body:
        raise ContractError(f"{where}: requestBody by $ref is not supported; inline it")
    content = body.get("content", {})
    others = sorted(set(content) - {JSON})
    if others:
        raise ContractError(f"{where}: request media types {others}; API Gateway models here are {JSON} only")
    if JSON not in content or "schema" not in content[JSON]:
        return None
    return draft4(content[JSON]["schema"], components, where=f"{where} requestBody")


def draft4(schema: dict | bool, components: dict, *, where: str = "#", _seen: tuple[str, ...] = ()) -> dict:
    """`schema` (JSON Schema 2020-12, as OpenAPI 3.1 writes it) as self-contained draft 4."""
    if schema is True:
        return {}
    if schema is False:
        return {"not": {}}
    if not isinstance(schema, dict):
        raise ContractError(f"{where}: a schema must be an object or a boolean, got {schema!r}")
    if "$ref" in schema:
        return _inline(schema, components, where, _seen)

    def sub(value: dict | bool, at: str) -> dict:
        return draft4(value, components, where=f"{where}/{at}", _seen=_seen)

    out: dict = {}
    for key, value in schema.items():
        if key in _ANNOTATIONS or key in LOOSENED or key in ("exclusiveMinimum", "exclusiveMaximum", "$defs"):
            continue
        if key in _PLAIN:
            out[key] = value
        elif key == "const":
            out["enum"] = [value]
        elif key in _SCHEMA_VALUED:
            out[key] = value if isinstance(value, bool) and key != "not" else sub(value, key)
        elif key in _SCHEMA_LISTS:
            out[key] = [sub(v, f"{key}/{i}") for i, v in enumerate(value)]
        elif key in _SCHEMA_MAPS:
            out[key] = {name: sub(v, f"{key}/{name}") for name, v in value.items()}
        elif key == "items":
            if "prefixItems" in schema:
                out["additionalItems"] = value if isinstance(value, bool) else sub(value, key)
            elif value is False:
                out["maxItems"] = 0
            else:
                out["items"] = sub(value, key)
        elif key == "prefixItems":
            out["items"] = [sub(v, f"{key}/{i}") for i, v in enumerate(value)]
        elif key == "dependencies":  # draft 4's own: a property list or a schema per name
            out.setdefault("dependencies", {}).update(
                {k: list(v) if isinstance(v, list) else sub(v, f"{key}/{k}") for k, v in value.items()}
            )
        elif key == "dependentRequired":
            out.setdefault("dependencies", {}).update({k: list(v) for k, v in value.items()})
        elif key == "dependentSchemas":
            out.setdefault("dependencies", {}).update({k: sub(v, f"{key}/{k}") for k, v in value.items()})
        elif key == "nullable":
            continue  # below, once `type` is known
        else:
            raise ContractError(
                f"{where}: {key!r} has no JSON Schema draft-4 form here; teach stacks.contract.openapi.draft4 "
                "how to convert or drop it"
            )
    if schema.get("nullable") is True and "type" in out:  # OpenAPI 3.0's spelling of "or null"
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = types if "null" in types else [*types, "null"]
    _bound(schema, out, "minimum", "exclusiveMinimum", lower=True, where=where)
    _bound(schema, out, "maximum", "exclusiveMaximum", lower=False, where=where)
    return out


def _inline(schema: dict, components: dict, where: str, seen: tuple[str, ...]) -> dict:
    ref = schema["$ref"]
    if not ref.startswith(_COMPONENTS):
        raise ContractError(f"{where}: $ref {ref!r} is not into {_COMPONENTS}")
    name = ref.removeprefix(_COMPONENTS)
    if name in seen:
        raise ContractError(f"{where}: {name} refers to itself ({' -> '.join((*seen, name))}); API Gateway "
                            "models cannot hold a recursive schema")
    if name not in components:
        raise ContractError(f"{where}: $ref {ref!r} names no schema in the document")
    inlined = draft4(components[name], components, where=ref, _seen=(*seen, name))
    siblings = {k: v for k, v in schema.items() if k != "$ref"}
    if not siblings:
        return inlined
    # 2020-12 applies $ref beside other keywords; draft 4 ignores them there: say both with allOf.
    rest = draft4(siblings, components, where=where, _seen=seen)
    return {"allOf": [inlined, rest]} if rest else inlined


def _bound(schema: dict, out: dict, inclusive: str, exclusive: str, *, lower: bool, where: str) -> None:
    """2020-12's numeric exclusive bound -> draft 4's bound + boolean flag; of an
    inclusive and an exclusive bound, the stricter one is kept."""
    limit = schema.get(exclusive)
    if limit is None or limit is False:
        return
    if limit is True:  # already draft 4
        if inclusive not in schema:
            raise ContractError(f"{where}: {exclusive}: true without {inclusive}")
        out[exclusive] = True
        return
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not math.isfinite(limit):
        raise ContractError(f"{where}: {exclusive} must be a finite number, got {limit!r}")
    current = schema.get(inclusive)
    if current is None or (limit >= current if lower else limit <= current):
        out[inclusive] = limit
        out[exclusive] = True
