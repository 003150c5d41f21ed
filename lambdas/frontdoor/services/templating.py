"""Prompt templates as data: load, validate, render.

User text is data, never template code: rendering is one
``string.Template.substitute`` pass over an allow-list of declared variables, so
``${...}`` or ``{...}`` inside a value is inserted literally and never expanded
(Python's format-string method would let a caller reach attributes; Jinja would need a sandbox
and ~1 MB of dependencies). Templates themselves come from the package
(``templates/builtin.json``) or the operator (``EXTRA_TEMPLATES_JSON``), both
validated at cold start.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.errors import BadRequest, ConfigError, NotFound, json_list
from inference.params import TEXT_PARAMETERS
from inference.prompts import STYLES, PromptFormat

BUILTIN_PATH = Path(__file__).resolve().parent.parent / "templates" / "builtin.json"
DEFAULT_MAX_CHARS = 4000
MAX_PROMPT_CHARS = 48_000  # ~12k tokens: beyond every configured model's input window
MAX_TEMPLATE_NAME_CHARS = 64
# A template name as the routes' `{name}` path parameter matches it (the front door's and the
# streaming function's), and as ``parse_template`` accepts it: a name the routes refuse
# (str.isalnum would let "café" through) could be loaded but never called.
TEMPLATE_NAME_PATTERN = r"^[A-Za-z0-9_-]+$"
_ALLOWED_PARAMETERS = set(TEXT_PARAMETERS)
_TEMPLATE_KEYS = {"name", "description", "template", "variables", "parameters", "style", "system", "output"}


@dataclass(frozen=True)
class Variable:
    name: str
    description: str = ""
    default: str | None = None
    max_chars: int = DEFAULT_MAX_CHARS

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    description: str
    template: str
    variables: tuple[Variable, ...]
    parameters: dict[str, Any] = field(default_factory=dict)
    style: str = "completion"
    system: str | None = None
    output: dict[str, Any] = field(default_factory=lambda: {"type": "text"})
    source: str = "builtin"

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "style": self.style,
            "system": self.system,
            "template": self.template,
            "variables": [
                {"name": v.name, "description": v.description, "default": v.default,
                 "required": v.required, "max_chars": v.max_chars}
                for v in self.variables
            ],
            "parameters": dict(self.parameters),
            "output": dict(self.output),
            "source": self.source,
        }

    def body(self, values: dict[str, str]) -> str:
        """The template with ``values`` (resolved: every declared variable) substituted,
        before the model family's prompt format."""
        return string.Template(self.template).substitute(values)

    def labels_for(self, values: dict[str, str]) -> list[str] | None:
        """Labels a ``label`` template normalises to, or None for free text."""
        if self.output.get("type") != "label":
            return None
        if "labels_from_variable" in self.output:
            raw = values[self.output["labels_from_variable"]]
            return [part.strip().lower() for part in raw.split(",") if part.strip()]
        return [str(label).lower() for label in self.output["labels"]]


def _fail(where: str, message: str) -> ConfigError:
    return ConfigError(f"{where}: {message}")


def parse_template(raw: Any, source: str, index: int) -> PromptTemplate:
    """Validate one template object; errors name the field, for operators."""
    where = f"{source}[{index}]"
    if not isinstance(raw, dict):
        raise _fail(where, "must be an object")
    unknown = set(raw) - _TEMPLATE_KEYS
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    name = _parse_name(raw.get("name"), where)
    where = f"{source} template {name!r}"
    text = raw.get("template")
    if not isinstance(text, str) or not text:
        raise _fail(where, "template must be a non-empty string")
    tpl = string.Template(text)
    if not tpl.is_valid():
        raise _fail(where, "template has an invalid placeholder (write a literal $ as $$)")
    variables = _parse_variables(raw.get("variables", []), where)
    declared = [v.name for v in variables]
    used = set(tpl.get_identifiers())
    if used != set(declared):
        raise _fail(where, f"placeholders {sorted(used)} must match declared variables {sorted(declared)}")
    params = raw.get("parameters", {})
    if not isinstance(params, dict) or set(params) - _ALLOWED_PARAMETERS:
        raise _fail(where, f"parameters may only use {sorted(_ALLOWED_PARAMETERS)}")
    style = raw.get("style", "completion")
    if style not in STYLES:
        raise _fail(where, f"style must be one of {list(STYLES)}")
    system = raw.get("system")
    if system is not None and not isinstance(system, str):
        raise _fail(where, "system must be a string")
    output = _parse_output(raw.get("output", {"type": "text"}), declared, where)
    return PromptTemplate(
        name=name,
        description=str(raw.get("description", "")),
        template=text,
        variables=tuple(variables),
        parameters=dict(params),
        style=style,
        system=system,
        output=dict(output),
        source=source,
    )


def _parse_name(name: Any, where: str) -> str:
    if (not isinstance(name, str) or len(name) > MAX_TEMPLATE_NAME_CHARS
            or not re.fullmatch(TEMPLATE_NAME_PATTERN, name)):
        raise _fail(where, f"name must be 1-{MAX_TEMPLATE_NAME_CHARS} characters of ASCII letters, digits, '-' or '_'")
    return name


def _parse_variables(raw: Any, where: str) -> list[Variable]:
    """The declared variables, each checked; their names unique."""
    variables = []
    for j, var in enumerate(raw):
        if not isinstance(var, dict) or not isinstance(var.get("name"), str) or not var["name"].isidentifier():
            raise _fail(where, f"variables[{j}] needs a 'name' that is a Python identifier")
        default = var.get("default")
        if default is not None and not isinstance(default, str):
            raise _fail(where, f"variables[{j}].default must be a string")
        max_chars = var.get("max_chars", DEFAULT_MAX_CHARS)
        if isinstance(max_chars, bool) or not isinstance(max_chars, int) or not 1 <= max_chars <= MAX_PROMPT_CHARS:
            raise _fail(where, f"variables[{j}].max_chars must be an integer in 1..{MAX_PROMPT_CHARS}")
        variables.append(Variable(var["name"], str(var.get("description", "")), default, max_chars))
    declared = [v.name for v in variables]
    if len(set(declared)) != len(declared):
        raise _fail(where, "variable names must be unique")
    return variables


def _parse_output(output: Any, declared: list[str], where: str) -> dict[str, Any]:
    """``{"type": "text"}``, or a label output whose labels are listed or come from a variable."""
    if not isinstance(output, dict) or output.get("type") not in ("text", "label"):
        raise _fail(where, "output.type must be 'text' or 'label'")
    if output["type"] == "label":
        if "labels_from_variable" in output:
            if output["labels_from_variable"] not in declared:
                raise _fail(where, "output.labels_from_variable must name a declared variable")
        elif not isinstance(output.get("labels"), list) or len(output["labels"]) < 2:
            raise _fail(where, "a label template needs output.labels (>= 2) or output.labels_from_variable")
    return output


class TemplateRegistry:
    def __init__(self, templates: list[PromptTemplate]) -> None:
        self._by_name: dict[str, PromptTemplate] = {}
        for tpl in templates:
            # Later sources win: an operator may replace a built-in by reusing its name.
            self._by_name[tpl.name] = tpl

    @classmethod
    def load(cls, extra_json: str | None = None, builtin_path: Path = BUILTIN_PATH) -> TemplateRegistry:
        builtin = json.loads(builtin_path.read_text(encoding="utf-8"))["templates"]
        templates = [parse_template(raw, "builtin", i) for i, raw in enumerate(builtin)]
        if extra_json:
            extra = json_list(extra_json, "EXTRA_TEMPLATES_JSON")
            templates += [parse_template(raw, "EXTRA_TEMPLATES_JSON", i) for i, raw in enumerate(extra)]
        return cls(templates)

    def all(self) -> list[PromptTemplate]:
        return sorted(self._by_name.values(), key=lambda t: t.name)

    def get(self, name: str) -> PromptTemplate:
        try:
            return self._by_name[name]
        except KeyError:
            raise NotFound(f"unknown template {name!r}; GET /v1/templates lists them") from None


def resolve_variables(tpl: PromptTemplate, given: dict[str, str]) -> dict[str, str]:
    """Apply defaults and the allow-list and size caps; every value is plain data."""
    unknown = sorted(set(given) - {v.name for v in tpl.variables})
    if unknown:
        raise BadRequest(f"template {tpl.name!r} has no variables {unknown}",
                         details=[{"field": "variables", "unknown": unknown}])
    values: dict[str, str] = {}
    for var in tpl.variables:
        value = given.get(var.name, var.default)
        if value is None:
            raise BadRequest(f"variable {var.name!r} is required by template {tpl.name!r}",
                             details=[{"field": f"variables.{var.name}", "type": "missing"}])
        if not value.strip():
            raise BadRequest(f"variable {var.name!r} must not be blank",
                             details=[{"field": f"variables.{var.name}", "type": "blank"}])
        if len(value) > var.max_chars:
            raise BadRequest(f"variable {var.name!r} is {len(value)} characters; the limit is {var.max_chars}",
                             details=[{"field": f"variables.{var.name}", "type": "too_long", "max_chars": var.max_chars}])
        values[var.name] = value
    return values


def render(tpl: PromptTemplate, given: dict[str, str], fmt: PromptFormat) -> tuple[str, dict[str, str]]:
    """Render the exact prompt sent to a model of ``fmt``'s family.

    Returns the prompt and the resolved variable values.
    """
    values = resolve_variables(tpl, given)
    for name, value in values.items():
        if name in given:  # defaults are operator text, already trusted
            fmt.check(value, f"variables.{name}")
    body = tpl.body(values)
    if len(body) > MAX_PROMPT_CHARS:
        raise BadRequest(f"rendered prompt is {len(body)} characters; the limit is {MAX_PROMPT_CHARS}")
    return fmt.wrap(body, system=tpl.system, style=tpl.style), values
