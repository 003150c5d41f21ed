"""Write docs/config-reference.md from the config schema (`stacks.config`), so the
reference cannot drift from what synth accepts: every field with its type, default,
bounds and description, one table per section. `--check` exits 1 when the committed
file is stale (tests/tools/test_config_reference.py runs it).

    python -m tools.config_reference            # rewrite docs/config-reference.md
    python -m tools.config_reference --check    # is it current?
"""

from __future__ import annotations

import argparse
import sys
import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from stacks.config import AppConfig

DOC = Path(__file__).resolve().parent.parent / "docs" / "config-reference.md"

HEADER = """# Config reference

Generated from the config schema (`stacks/config/`) by `python -m tools.config_reference`;
a test fails when this file is stale. One YAML file per deployment (`config/default.yaml`,
`config/examples/`), validated before any construct exists: unknown keys are errors, and a
bad value fails synth naming the field path and the allowed values, e.g.
`endpoints[0].instance_type: 'ml.g4dn.xlarge' is not supported by huggingface-llm-falcon-7b-instruct-bf16; supported: ml.g5.2xlarge, ...`.
The second layer of checks (model x instance x region x GPU memory, against the pinned
catalogs in `config/catalog/` and `config/jumpstart/`) runs right after, in `stacks/models/`.
"""


def _models_in(annotation: object) -> list[type[BaseModel]]:
    """The config models a field holds (directly, in a list or dict, or optionally)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _is_list(annotation: object) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return origin is list


def _type_name(annotation: object) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(f"`{v}`" for v in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in typing.get_args(annotation))}]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "(required)"
    value = info.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        # A section's table gives its model's own defaults; say where this field's differ.
        changed = [
            f"`{name}: {_plain(getattr(value, name))}`"
            for name, field in type(value).model_fields.items()
            if not field.is_required() and getattr(value, name) != field.get_default(call_default_factory=True)
        ]
        return "see below" + (f", except {', '.join(changed)}" if changed else "")
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return f"`{value}`"


def _plain(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _bounds(info: FieldInfo) -> str:
    """ge/gt/le/lt, lengths and patterns, as pydantic holds them in the field's metadata."""
    parts = []
    for item in info.metadata:
        for attr, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"),
                             ("min_length", "min length"), ("max_length", "max length")):
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{symbol} {value}")
        pattern = getattr(item, "pattern", None)
        if pattern:
            parts.append(f"pattern `{pattern}`")
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def sections(model: type[BaseModel] = AppConfig, path: str = "") -> list[tuple[str, type[BaseModel]]]:
    """(path, model) for the whole tree, depth first, in field order."""
    out = [(path, model)]
    for name, info in model.model_fields.items():
        for sub in _models_in(info.annotation):
            child = f"{path}.{name}" if path else name
            out += sections(sub, child + ("[]" if _is_list(info.annotation) else ""))
    return out


def render() -> str:
    lines = [HEADER]
    for path, model in sections():
        title = path or "top level"
        lines.append(f"\n## `{title}` ({model.__name__})\n")
        doc = (model.__doc__ or "").strip()
        if doc and model is not AppConfig:
            lines.append(" ".join(doc.split()) + "\n")
        lines.append("| field | type | default | bounds | meaning |\n|---|---|---|---|---|")
        for name, info in model.model_fields.items():
            lines.append(
                f"| `{name}` | {_cell(_type_name(info.annotation))} | {_cell(_default(info))} | "
                f"{_cell(_bounds(info))} | {_cell(info.description or '')} |"
            )
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/config-reference.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not DOC.is_file() or DOC.read_text() != text:
            print(f"{DOC} is stale: run python -m tools.config_reference", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
