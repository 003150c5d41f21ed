"""A client generated from the document keeps every field of every request model, typed.

openapi-python-client (requirements-dev.txt) generates a client from the committed
``openapi.json`` into a temporary directory, offline and without its ruff post-hook; the
generated model classes are read with ``ast`` (not imported). A rule across fields spelled
as a top-level ``oneOf``/``anyOf`` beside ``properties`` made the generator emit one class per
branch with only that branch's field (``SummarizeRequest`` with ``text`` alone): the models
state such rules as a top-level ``not`` (``frontdoor.models.base``), which generators leave
alone, and this test keeps it that way for every model a request body reaches.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from frontdoor.routes import meta

_REF = "#/components/schemas/"


def _refs(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].removeprefix(_REF)} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def request_models(document: dict) -> dict[str, dict]:
    """Every component schema a request body reaches (through ``$ref``s), by name."""
    schemas = document["components"]["schemas"]
    todo = {name for item in document["paths"].values() for op in item.values() if isinstance(op, dict)
            for name in _refs(op.get("requestBody", {}))}
    found: dict[str, dict] = {}
    while todo:
        name = todo.pop()
        if name not in found:
            found[name] = schemas[name]
            todo |= _refs(schemas[name]) - set(found)
    return {name: schema for name, schema in found.items() if schema.get("properties")}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def generated_classes(package: Path) -> dict[str, dict[str, str]]:
    """Class -> {field: annotation} of every generated model (attrs classes: annotated fields)."""
    classes = {}
    for path in (package / "models").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                classes[_key(node.name)] = {
                    item.target.id: ast.unparse(item.annotation) for item in node.body
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                    and item.target.id != "additional_properties"}
    return classes


@pytest.fixture(scope="module")
def client_package(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("client")
    config = out / "config.yaml"
    config.write_text("post_hooks: []\n", encoding="utf-8")  # no ruff run: offline, and faster
    target = out / "frontdoor_client"
    done = subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", str(meta.DOCUMENT),
                           "--config", str(config), "--output-path", str(target), "--meta", "none"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def test_every_request_model_is_found(client_package):
    document = json.loads(meta.DOCUMENT.read_text(encoding="utf-8"))
    models = request_models(document)
    assert {"SummarizeRequest", "FeedbackRequest", "ImageRequest", "GenerateRequest", "TextParameters"} <= set(models)
    classes = generated_classes(client_package)
    missing = {name for name in models if _key(name) not in classes}
    assert not missing, f"no generated class for {sorted(missing)}"


def test_generated_classes_keep_every_field_of_every_request_model_typed(client_package):
    document = json.loads(meta.DOCUMENT.read_text(encoding="utf-8"))
    classes = generated_classes(client_package)
    lost, untyped = {}, {}
    for name, schema in request_models(document).items():
        # The generator suffixes names that shadow Python's (`type` -> `type_`, `input` -> `input_`).
        fields = {f[:-1] if f.endswith("_") and f[:-1] in schema["properties"] else f: annotation
                  for f, annotation in classes.get(_key(name), {}).items()}
        if set(schema["properties"]) - set(fields):
            lost[name] = sorted(set(schema["properties"]) - set(fields))
        if any(annotation == "Any" for annotation in fields.values()):
            untyped[name] = sorted(f for f, annotation in fields.items() if annotation == "Any")
    assert not lost, f"fields a generated client drops (reachable only as untyped extras): {lost}"
    assert not untyped, f"fields a generated client types as Any: {untyped}"


@pytest.mark.parametrize(("name", "fields", "base"), [
    ("SummarizeRequest", {"text": "t", "s3_key": "inputs/a"}, {}),
    ("FeedbackRequest", {"rating": 3, "ranking": [0, 1], "candidate_id": "c1"}, {"request_id": "r"}),
    ("ImageRequest", {"prompt": "p", "preset": "lecture"}, {}),
])
def test_rules_across_fields_mean_the_same_to_api_gateway_the_document_and_the_function(name, fields, base):
    """Every combination of the fields absent, null or given: API Gateway's draft-4 model (made
    by stacks.contract.openapi), the document's 2020-12 schema and the pydantic model agree."""
    import itertools

    from jsonschema import Draft4Validator, Draft202012Validator
    from pydantic import ValidationError

    from frontdoor.models import feedback, images, summarize
    from stacks.contract.openapi import draft4

    document = json.loads(meta.DOCUMENT.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    gateway = Draft4Validator(draft4({"$ref": _REF + name}, schemas))
    contract = Draft202012Validator({**schemas[name], "components": document["components"]})
    model = {"SummarizeRequest": summarize.SummarizeRequest, "FeedbackRequest": feedback.FeedbackRequest,
             "ImageRequest": images.ImageRequest}[name]
    for combo in itertools.product(*[("absent", None, value) for value in fields.values()]):
        body = {**base, **{f: v for f, v in zip(fields, combo) if v != "absent"}}
        try:
            model.model_validate(body)
            accepted = True
        except ValidationError:
            accepted = False
        assert gateway.is_valid(body) == contract.is_valid(body) == accepted, body
