"""Read a synthesized cloud assembly: stacks, templates, construct metadata, and
references between resources (including weak cross-stack references).

Everything the review report and the picture say comes from here, so a config
change shows up in both without anyone editing a drawing or a table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

ACK_METADATA_TYPE = "aws:cdk:acknowledged-rules"


@dataclass(frozen=True)
class ResourceRef:
    """A resource addressed across the whole assembly."""

    stack: str  # artifact id, e.g. "Api"
    logical_id: str

    def __str__(self) -> str:
        return f"{self.stack}:{self.logical_id}"


@dataclass
class Resource:
    ref: ResourceRef
    type: str
    properties: dict
    metadata: dict

    @property
    def path(self) -> str:
        """The construct path (stable and readable; logical ids carry hashes)."""
        return self.metadata.get("aws:cdk:path", str(self.ref))


@dataclass
class Stack:
    id: str
    name: str
    region: str | None
    template: dict
    construct_metadata: dict[str, list[dict]] = field(repr=False)

    @property
    def resources(self) -> dict[str, dict]:
        return self.template.get("Resources", {})


class Assembly:
    """The stacks of one cloud assembly directory (`cdk.out` or a test outdir)."""

    def __init__(self, directory: Path | str):
        self.dir = Path(directory)
        manifest_path = self.dir / "manifest.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(
                f"{manifest_path} not found: synthesize first (`npx cdk synth -q`, or `make synth`)"
            )
        manifest = json.loads(manifest_path.read_text())
        self.stacks: dict[str, Stack] = {}
        for art_id, art in manifest["artifacts"].items():
            if art["type"] != "aws:cloudformation:stack":
                continue
            props = art["properties"]
            template = json.loads((self.dir / props["templateFile"]).read_text())
            # Large apps move construct metadata into a side file; small ones keep it inline.
            metadata = dict(art.get("metadata", {}))
            extra = art.get("additionalMetadataFile")
            if extra and (self.dir / extra).is_file():
                metadata.update(json.loads((self.dir / extra).read_text()))
            self.stacks[art_id] = Stack(
                id=art_id,
                name=props.get("stackName", art_id),
                region=_region_of(art.get("environment", "")),
                template=template,
                construct_metadata=metadata,
            )

    @cached_property
    def _by_stack_name(self) -> dict[str, Stack]:
        return {s.name: s for s in self.stacks.values()}

    @cached_property
    def _exports(self) -> dict[str, tuple[Stack, Any]]:
        found = {}
        for stack in self.stacks.values():
            for output in stack.template.get("Outputs", {}).values():
                name = (output.get("Export") or {}).get("Name")
                if isinstance(name, str):
                    found[name] = (stack, output["Value"])
        return found

    @property
    def region(self) -> str | None:
        regions = {s.region for s in self.stacks.values() if s.region}
        return regions.pop() if len(regions) == 1 else None

    def resources(self, type_: str | None = None) -> Iterator[Resource]:
        for stack in self.stacks.values():
            for logical_id, body in stack.resources.items():
                if type_ is None or body["Type"] == type_:
                    yield self.resource(ResourceRef(stack.id, logical_id))

    def resource(self, ref: ResourceRef) -> Resource:
        body = self.stacks[ref.stack].resources[ref.logical_id]
        metadata = dict(body.get("Metadata", {}))
        # Without the CLI's path-metadata context (e.g. App(...) in tests) templates carry
        # no aws:cdk:path; the construct metadata still maps each logical id to its path.
        if "aws:cdk:path" not in metadata and ref.logical_id in self._paths[ref.stack]:
            metadata["aws:cdk:path"] = self._paths[ref.stack][ref.logical_id]
        return Resource(ref, body["Type"], body.get("Properties", {}), metadata)

    @cached_property
    def _paths(self) -> dict[str, dict[str, str]]:
        return {
            stack.id: {
                entry["data"]: path.lstrip("/")
                for path, entries in stack.construct_metadata.items()
                for entry in entries
                if entry.get("type") == "aws:cdk:logicalId" and isinstance(entry.get("data"), str)
            }
            for stack in self.stacks.values()
        }

    def get(self, ref: ResourceRef | None) -> Resource | None:
        if ref is None or ref.logical_id not in self.stacks[ref.stack].resources:
            return None
        return self.resource(ref)

    # -- references ---------------------------------------------------------

    def refs(self, stack: str, node: Any) -> set[ResourceRef]:
        """Every resource `node` (a property value in `stack`) refers to, following
        weak (Fn::GetStackOutput) and strong (Fn::ImportValue) cross-stack references."""
        found: set[ResourceRef] = set()
        self._collect(stack, node, found)
        return found

    def ref_of(self, stack: str, node: Any) -> ResourceRef | None:
        """The single resource a `{"Ref"}`/`{"Fn::GetAtt"}`-like value points at."""
        found = self.refs(stack, node)
        return next(iter(found)) if len(found) == 1 else None

    def _collect(self, stack: str, node: Any, found: set[ResourceRef]) -> None:
        if isinstance(node, list):
            for item in node:
                self._collect(stack, item, found)
            return
        if not isinstance(node, dict):
            return
        resources = self.stacks[stack].resources
        if "Ref" in node and isinstance(node["Ref"], str):
            if node["Ref"] in resources:
                found.add(ResourceRef(stack, node["Ref"]))
            return
        if "Fn::GetAtt" in node:
            target = node["Fn::GetAtt"]
            name = target[0] if isinstance(target, list) else str(target).split(".")[0]
            if name in resources:
                found.add(ResourceRef(stack, name))
            return
        if "Fn::GetStackOutput" in node:
            resolved = self.stack_output(node["Fn::GetStackOutput"])
            if resolved:
                self._collect(resolved[0].id, resolved[1], found)
            return
        if "Fn::ImportValue" in node and isinstance(node["Fn::ImportValue"], str):
            export = self._exports.get(node["Fn::ImportValue"])
            if export:
                self._collect(export[0].id, export[1], found)
            return
        if "Fn::Sub" in node:
            body = node["Fn::Sub"]
            text, variables = (body, {}) if isinstance(body, str) else (body[0], body[1])
            for name in _sub_names(text):
                base = name.split(".")[0]
                if base in resources and base not in variables:
                    found.add(ResourceRef(stack, base))
            self._collect(stack, variables, found)
            return
        for value in node.values():
            self._collect(stack, value, found)

    def stack_output(self, spec: dict) -> tuple[Stack, Any] | None:
        stack = self._by_stack_name.get(spec.get("StackName"))
        if stack is None:
            return None
        output = stack.template.get("Outputs", {}).get(spec.get("OutputName"))
        return (stack, output["Value"]) if output else None

    # -- rendering ----------------------------------------------------------

    def render(self, stack: str, node: Any) -> str:
        """An intrinsic-function value as a reviewer would write it by hand:
        `{"Fn::GetAtt": [X, "Arn"]}` -> `X.Arn`, `Fn::Join` -> one string with
        `${X}` for references; cross-stack values as `<Stack>:X`."""
        return self._render(stack, node, inline=False)

    def _render(self, stack: str, node: Any, inline: bool) -> str:
        def wrap(text: str) -> str:
            return f"${{{text}}}" if inline else text

        if isinstance(node, str):
            return node
        if isinstance(node, (int, float, bool)):
            return json.dumps(node)
        if isinstance(node, list):
            return "[" + ", ".join(self._render(stack, n, False) for n in node) + "]"
        if not isinstance(node, dict) or len(node) != 1:
            return json.dumps(node, sort_keys=True)
        ((fn, arg),) = node.items()
        if fn == "Ref":
            return f"${{{arg}}}" if inline or str(arg).startswith("AWS::") else str(arg)
        if fn == "Fn::GetAtt":
            return wrap(".".join(arg) if isinstance(arg, list) else str(arg))
        if fn == "Fn::Join":
            sep, parts = arg
            if isinstance(parts, list):
                return sep.join(self._render(stack, p, True) for p in parts)
        if fn == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            for name, value in variables.items():
                text = text.replace(f"${{{name}}}", self._render(stack, value, True))
            return text
        if fn == "Fn::GetStackOutput":
            resolved = self.stack_output(arg)
            if resolved:
                return _prefix(resolved[0].id, self._render(resolved[0].id, resolved[1], inline))
            return wrap(f"{arg.get('StackName')}.{arg.get('OutputName')}")
        if fn == "Fn::ImportValue":
            export = self._exports.get(arg) if isinstance(arg, str) else None
            if export:
                return _prefix(export[0].id, self._render(export[0].id, export[1], inline))
            return wrap(f"import({self._render(stack, arg, False)})")
        if fn == "Fn::Select":
            return wrap(f"select({arg[0]}, {self._render(stack, arg[1], False)})")
        if fn == "Fn::GetAZs":
            return wrap("AZs")
        if fn == "Fn::If":
            cond, yes, no = arg
            return wrap(f"if({cond}, {self._render(stack, yes, False)}, {self._render(stack, no, False)})")
        return json.dumps(node, sort_keys=True)

    # -- construct metadata ---------------------------------------------------

    def acknowledgments(self) -> list[tuple[str, str, str, str]]:
        """(stack id, construct path, rule id, reason) for every cdk-nag acknowledgment."""
        seen: dict[tuple[str, str], tuple[str, str, str, str]] = {}
        for stack in self.stacks.values():
            for path, entries in stack.construct_metadata.items():
                for entry in entries:
                    if entry.get("type") != ACK_METADATA_TYPE:
                        continue
                    for rule, reason in entry["data"].items():
                        rule = rule.removeprefix("Annotation::")
                        seen[(path, rule)] = (stack.id, path.lstrip("/"), rule, reason)
        return sorted(seen.values(), key=lambda a: (a[1], a[2]))


def as_list(value: Any) -> list:
    """A template value that may be one item, a list or absent, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _region_of(environment: str) -> str | None:
    # "aws://<account>/<region>"; "unknown-region" for environment-agnostic stacks.
    region = environment.rsplit("/", 1)[-1] if environment.startswith("aws://") else ""
    return None if not region or region.startswith("unknown") else region


def _sub_names(text: str) -> list[str]:
    names, start = [], 0
    while (i := text.find("${", start)) != -1:
        end = text.find("}", i)
        if end == -1:
            break
        if not text.startswith("${!", i):
            names.append(text[i + 2 : end])
        start = end + 1
    return names


def _prefix(stack_id: str, rendered: str) -> str:
    # Cross-stack values name their home stack; `${X}` -> `${Stack:X}`.
    if rendered.startswith("${") and rendered.endswith("}") and rendered.count("${") == 1:
        return f"${{{stack_id}:{rendered[2:]}"
    if "${" in rendered:
        return rendered
    return f"{stack_id}:{rendered}"
