"""API Gateway against the front door's OpenAPI document, both ways: a route, a
request field or a status in one and not in the other fails here.

The document is `lambdas/frontdoor/openapi.json` (generated from the Lambda's
pydantic models); the gateway side is the synthesized Api stack template
(`AWS::ApiGateway::Method`, `::Resource`, `::Model`, `::RequestValidator`). The
comparison reads both as JSON and does not use the synth-time converter
(`stacks.contract.openapi`), so a converter bug shows up as a difference.

API Gateway's rules for models, as documented by AWS:
- Developer Guide, "Data models for REST APIs": "In API Gateway, models are
  defined using the JSON schema draft 4".
- API Reference, CreateModel, `schema`: "For application/json models, this should
  be JSON schema draft 4 model. The maximum size of the model is 400 KB."
- Developer Guide, "Request validation for REST APIs in API Gateway": when
  validation fails, API Gateway "returns a 400 error response to the caller";
  "Gateway response types for API Gateway": the default status of each answer the
  gateway gives itself (BAD_REQUEST_BODY 400, ACCESS_DENIED 403, THROTTLED 429, ...).
- Developer Guide, "Quotas for configuring and running a REST API in API
  Gateway": 300 resources per API.
"""

from __future__ import annotations

import json
import re

import pytest

from stacks.contract.openapi import document_path
from tests.synth import CONFIGS, synth

JSON = "application/json"
MAX_MODEL_BYTES = 400 * 1024  # CreateModel: "The maximum size of the model is 400 KB."
MAX_RESOURCES_PER_API = 300
# Served, but left out of the document on purpose (include_in_schema=False): the document itself.
UNDOCUMENTED = {("/v1/openapi.json", "GET")}
ERROR_SHAPE_EXTENSION = "x-fm-error-shape"
# Models that existed before they were generated from the document keep their logical ids
# (a new id would be a new model resource; the name is the construct id).
STABLE_MODEL_IDS = {
    ("/v1/feedback", "POST"): "FrontDoorApiV1FeedbackBodyE272C3ED",
    ("/v1/generate", "POST"): "FrontDoorApiV1GenerateBodyD0886A84",
    ("/v1/images", "POST"): "FrontDoorApiV1ImagesBody6D36717A",
    ("/v1/summarize", "POST"): "FrontDoorApiV1SummarizeBody493A2D56",
    ("/v1/templates/{name}", "POST"): "FrontDoorApiV1TemplatesNameBody432BEF3E",
    ("/v1/uploads", "POST"): "FrontDoorApiV1UploadsBodyD35FD382",
}
# JSON Schema draft 4's keywords (draft-zyp-json-schema-04 and its validation companion).
DRAFT4 = {
    "$schema", "id", "$ref", "title", "description", "default", "multipleOf", "maximum", "exclusiveMaximum",
    "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "additionalItems", "items", "maxItems",
    "minItems", "uniqueItems", "maxProperties", "minProperties", "required", "additionalProperties",
    "definitions", "properties", "patternProperties", "dependencies", "enum", "type", "allOf", "anyOf",
    "oneOf", "not", "format",
}
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_STATUS = re.compile(r"^[1-5][0-9][0-9]$")


# -- the two sides, as plain data --------------------------------------------------


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(document_path().read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def resources() -> dict:
    s = synth(CONFIGS["default"])
    return s.template(s.deployment.api)["Resources"]


def documented(document: dict) -> dict[tuple[str, str], dict]:
    return {
        (path, method.upper()): op
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in _METHODS
    }


def gateway_methods(resources: dict) -> dict[tuple[str, str], dict]:
    """(path, method) -> the method's properties, paths rebuilt from the resource tree."""
    def path_of(ref: dict) -> str:
        if "Fn::GetAtt" in ref:  # the API's root resource
            return ""
        props = resources[ref["Ref"]]["Properties"]
        return f"{path_of(props['ParentId'])}/{props['PathPart']}"

    return {
        (path_of(r["Properties"]["ResourceId"]) or "/", r["Properties"]["HttpMethod"]): r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGateway::Method"
    }


def model_of(resources: dict, method: dict) -> tuple[str, dict] | None:
    models = method.get("RequestModels") or {}
    if not models:
        return None
    assert set(models) == {JSON}, models
    lid = models[JSON]["Ref"]
    return lid, resources[lid]["Properties"]["Schema"]


def function_validates(op: dict) -> bool:
    """An OpenAI-compatible operation: its function validates the body (so that a refusal has
    OpenAI's error shape) and API Gateway has no model for it (stacks.contract.openapi)."""
    return op.get(ERROR_SHAPE_EXTENSION) == "openai"


def request_schema(document: dict, op: dict) -> dict | None:
    """The body schema API Gateway validates against (None: no body, or the function validates it)."""
    body = op.get("requestBody")
    if not body or function_validates(op):
        return None
    assert set(body["content"]) == {JSON}, f"API Gateway models here are {JSON} only"
    return body["content"][JSON]["schema"]


def statuses(op: dict) -> set[str]:
    return {s for s in op.get("responses", {}) if _STATUS.match(s)}


# -- what a schema asks of each field, in either draft -------------------------------


def _number(value):
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _bound(schema: dict, inclusive: str, exclusive: str, lower: bool) -> tuple[float, bool] | None:
    """The effective bound: (value, exclusive?) from draft 4's flag or 2020-12's number."""
    found = []
    if inclusive in schema:
        found.append((float(schema[inclusive]), schema.get(exclusive) is True))
    if isinstance(schema.get(exclusive), (int, float)) and not isinstance(schema.get(exclusive), bool):
        found.append((float(schema[exclusive]), True))
    if not found:
        return None
    # the stricter: higher lower bound (exclusive wins a tie), lower upper bound
    return max(found) if lower else min(found, key=lambda b: (b[0], not b[1]))


_ASSERTIONS = ("multipleOf", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
               "maxProperties", "minProperties")


def field_facts(schema, components: dict, path: str = "$", required: bool = True,
                out: dict | None = None) -> dict[str, set]:
    """Field path -> the set of alternatives (anyOf/oneOf branches) of what it must be."""
    out = {} if out is None else out
    if isinstance(schema, dict) and "$ref" in schema:
        schema = components[schema["$ref"].removeprefix("#/components/schemas/")]
    if schema is True or schema == {}:
        out.setdefault(path, set()).add((("any", True), ("required", required)))
        return out
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        for branch in branches:
            field_facts(branch, components, path, required, out)
        return out
    types = schema.get("type")
    enum = schema.get("enum", [schema["const"]] if "const" in schema else None)
    fact = {
        "required": required,
        "type": tuple(sorted(types)) if isinstance(types, list) else types,
        "enum": None if enum is None else tuple(sorted(json.dumps(_number(e)) for e in enum)),
        "min": _bound(schema, "minimum", "exclusiveMinimum", lower=True),
        "max": _bound(schema, "maximum", "exclusiveMaximum", lower=False),
        "closed": schema.get("additionalProperties") is False,
        **{k: _number(schema[k]) for k in _ASSERTIONS if k in schema},
    }
    out.setdefault(path, set()).add(tuple(sorted(fact.items(), key=lambda kv: kv[0])))
    needed = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        field_facts(sub, components, f"{path}.{name}", name in needed, out)
    if isinstance(schema.get("additionalProperties"), dict):
        field_facts(schema["additionalProperties"], components, f"{path}.*", False, out)
    if isinstance(schema.get("items"), dict):
        field_facts(schema["items"], components, f"{path}[]", True, out)
    for sub in schema.get("allOf", []):
        field_facts(sub, components, path, required, out)
    return out


# -- routes ------------------------------------------------------------------------------


def test_every_documented_route_is_a_gateway_method_and_nothing_else(document, resources):
    expected = set(documented(document)) | UNDOCUMENTED
    actual = set(gateway_methods(resources))
    assert not expected - actual, f"in openapi.json, not in API Gateway: {sorted(expected - actual)}"
    assert not actual - expected, f"in API Gateway, not in openapi.json: {sorted(actual - expected)}"


def test_the_undocumented_route_is_really_left_out_of_the_document(document):
    assert not UNDOCUMENTED & set(documented(document))


def test_api_stays_within_the_resources_quota(resources):
    count = sum(1 for r in resources.values() if r["Type"] == "AWS::ApiGateway::Resource")
    assert count + 1 <= MAX_RESOURCES_PER_API  # + the root resource


# -- request models -----------------------------------------------------------------


def test_a_method_has_a_request_model_exactly_when_the_document_gives_a_body(document, resources):
    methods = gateway_methods(resources)
    for key, op in documented(document).items():
        has_body, has_model = request_schema(document, op) is not None, model_of(resources, methods[key]) is not None
        assert has_body == has_model, f"{key}: body in openapi.json {has_body}, model in API Gateway {has_model}"
    for key in UNDOCUMENTED:
        assert model_of(resources, methods[key]) is None
    used = {model_of(resources, m)[0] for m in methods.values() if model_of(resources, m)}
    models = {lid for lid, r in resources.items() if r["Type"] == "AWS::ApiGateway::Model"}
    assert models == used, f"models no method uses: {sorted(models - used)}"


def test_every_model_is_validated_against(resources):
    for key, method in gateway_methods(resources).items():
        if model_of(resources, method):
            validator = resources[method["RequestValidatorId"]["Ref"]]["Properties"]
            assert validator["ValidateRequestBody"] is True, key


def test_request_fields_match_the_document_field_by_field(document, resources):
    components = document["components"]["schemas"]
    methods = gateway_methods(resources)
    for key, op in documented(document).items():
        schema = request_schema(document, op)
        if schema is None:
            continue
        _, model = model_of(resources, methods[key])
        want, have = field_facts(schema, components), field_facts(model, {})
        assert not set(want) - set(have), f"{key}: fields only in openapi.json: {sorted(set(want) - set(have))}"
        assert not set(have) - set(want), f"{key}: fields only in API Gateway: {sorted(set(have) - set(want))}"
        for field in sorted(want):
            assert have[field] == want[field], (
                f"{key} {field}:\n openapi.json {sorted(want[field])}\n API Gateway  {sorted(have[field])}"
            )


def test_models_are_draft_4_and_within_api_gateways_size_limit(resources):
    def keywords(schema: dict, at: str):
        for key, value in schema.items():
            yield at, key
            if key in ("properties", "patternProperties", "definitions", "dependencies"):
                for name, sub in value.items():
                    if isinstance(sub, dict):
                        yield from keywords(sub, f"{at}/{key}/{name}")
            elif key in ("allOf", "anyOf", "oneOf") or (key == "items" and isinstance(value, list)):
                for i, sub in enumerate(value):
                    yield from keywords(sub, f"{at}/{key}/{i}")
            elif isinstance(value, dict) and key in ("items", "not", "additionalProperties", "additionalItems"):
                yield from keywords(value, f"{at}/{key}")

    for lid, r in resources.items():
        if r["Type"] != "AWS::ApiGateway::Model":
            continue
        schema = r["Properties"]["Schema"]
        assert len(json.dumps(schema).encode()) <= MAX_MODEL_BYTES, lid
        assert schema["$schema"] == "http://json-schema.org/draft-04/schema#", lid
        for at, key in keywords(schema, lid):
            assert key in DRAFT4, f"{at}: {key!r} is not a draft-4 keyword"
            assert key != "$ref", f"{at}: models are self-contained"
        text = json.dumps(schema)
        assert not re.search(r'"exclusive(Minimum|Maximum)": [-0-9]', text), f"{lid}: draft 4 takes booleans"


def test_model_logical_ids_are_stable(resources):
    methods = gateway_methods(resources)
    for key, prefix in STABLE_MODEL_IDS.items():
        if key not in methods:
            continue  # the route left the document: the route test says so
        lid, _ = model_of(resources, methods[key])
        assert lid.startswith(prefix), (key, lid)


# -- statuses -------------------------------------------------------------------------


def test_every_documented_status_is_a_method_response(document, resources):
    methods = gateway_methods(resources)
    for key, op in documented(document).items():
        responses = {r["StatusCode"] for r in methods[key].get("MethodResponses", [])}
        assert statuses(op) <= responses, f"{key}: in openapi.json, not in API Gateway: {sorted(statuses(op) - responses)}"


def test_every_status_the_gateway_lists_is_documented(document, resources):
    """A method's responses are the document's plus what the gateway answers itself
    (400 where it validates the body, 403 for auth and the WAF, 413 over 10 MB, 429 for throttling;
    `api_gateway.gateway_statuses`). A client generated from the document must know them."""
    methods = gateway_methods(resources)
    missing = {}
    for key, op in documented(document).items():
        responses = {r["StatusCode"] for r in methods[key].get("MethodResponses", [])}
        if responses - statuses(op):
            missing[f"{key[1]} {key[0]}"] = sorted(responses - statuses(op))
    assert not missing, f"API Gateway answers these statuses but openapi.json does not document them: {missing}"


def gateway_body_fields(resources: dict, response_type: str) -> set[str]:
    [template] = [
        r["Properties"]["ResponseTemplates"][JSON]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGateway::GatewayResponse" and r["Properties"]["ResponseType"] == response_type
    ]
    # VTL, not JSON ($context.error.messageString arrives quoted): the keys are what a client reads.
    return set(re.findall(r'"(\w+)":', template))


def test_the_gateways_own_error_bodies_are_the_documented_error_body(document, resources):
    """400 comes from BAD_REQUEST_BODY, 401/403/429 from DEFAULT_4XX: both write the
    function's error shape, and the document must say that shape for those statuses."""
    bodies = {"400": gateway_body_fields(resources, "BAD_REQUEST_BODY")}
    bodies.update(dict.fromkeys(("401", "403", "429"), gateway_body_fields(resources, "DEFAULT_4XX")))
    assert bodies["400"] == bodies["403"] == {"error", "message", "request_id"}
    components = document["components"]["schemas"]
    for key, op in documented(document).items():
        for status, fields in bodies.items():
            response = op.get("responses", {}).get(status)
            if response is None or (status == "400" and function_validates(op)):  # no validator: no gateway 400
                continue
            schema = response["content"][JSON]["schema"]
            # OpenAI-compatible operations document the gateway's shape as one branch of anyOf.
            branches = schema.get("anyOf", [schema])
            resolved = [components[b["$ref"].removeprefix("#/components/schemas/")] if "$ref" in b else b
                        for b in branches]
            assert any(set(b.get("required", [])) <= fields <= set(b["properties"]) for b in resolved), (
                key, status, schema)


def test_every_method_uses_an_authorization_the_document_declares(document, resources):
    authtypes = {"awsSigv4": "AWS_IAM", "cognito_user_pools": "COGNITO_USER_POOLS", "custom": "CUSTOM"}
    schemes = document.get("components", {}).get("securitySchemes", {})
    methods = gateway_methods(resources)
    for key, op in documented(document).items():
        requirements = op.get("security", document.get("security", []))
        declared = {authtypes.get(schemes[name].get("x-amazon-apigateway-authtype"))
                    for requirement in requirements for name in requirement}
        assert methods[key]["AuthorizationType"] in declared, (key, methods[key]["AuthorizationType"], declared)


# -- the synth-time converter, on what the document may say next ----------------------


def test_converter_spells_2020_12_in_draft_4():
    from stacks.contract.openapi import draft4

    components = {"Inner": {"type": "object", "title": "Inner", "properties": {"k": {"const": "v"}},
                            "additionalProperties": False}}
    schema = {
        "type": "object", "title": "T", "description": "d", "discriminator": {"propertyName": "k"},
        "properties": {
            "p": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "default": 0.5, "examples": [0.5]},
            "q": {"type": "integer", "minimum": 5, "exclusiveMinimum": 1},  # the inclusive bound is stricter
            "r": {"$ref": "#/components/schemas/Inner"},
            "s": {"type": "array", "prefixItems": [{"type": "string"}], "items": False},
            "t": {"type": "string", "nullable": True, "format": "uri"},
            "u": {"type": "object", "propertyNames": {"maxLength": 3}, "additionalProperties": {"type": "string"}},
        },
        "oneOf": [{"required": ["p"]}, {"required": ["q"]}],
        "dependentRequired": {"p": ["q"]},
    }
    assert draft4(schema, components) == {
        "type": "object",
        "properties": {
            "p": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 1, "exclusiveMaximum": True},
            "q": {"type": "integer", "minimum": 5},
            "r": {"type": "object", "properties": {"k": {"enum": ["v"]}}, "additionalProperties": False},
            "s": {"type": "array", "items": [{"type": "string"}], "additionalItems": False},
            "t": {"type": ["string", "null"]},
            "u": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "oneOf": [{"required": ["p"]}, {"required": ["q"]}],
        "dependencies": {"p": ["q"]},
    }


def test_converter_refuses_what_a_model_cannot_hold():
    from stacks.contract.openapi import ContractError, draft4

    with pytest.raises(ContractError, match="refers to itself"):
        draft4({"$ref": "#/components/schemas/Node"},
               {"Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}})
    with pytest.raises(ContractError, match="no JSON Schema draft-4 form"):
        draft4({"type": "string", "$dynamicRef": "#x"}, {})
    with pytest.raises(ContractError, match="names no schema"):
        draft4({"$ref": "#/components/schemas/Missing"}, {})
