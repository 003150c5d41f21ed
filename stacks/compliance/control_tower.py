"""AWS Control Tower proactive controls at synth (issue 14).

`attach_control_tower(app)` registers a validation plugin, named like and built from
`cdklabs-cdk-validator-cfnguard` (the Control Tower proactive controls as Guard rules plus
a statically linked `cfn-guard` 3.1.1 for Linux/macOS on x86_64/arm64: offline), in
aws-cdk-lib's validation framework next to the cdk-nag packs. A finding fails synth
unless acknowledged, on the narrowest construct, with
`acknowledge_control(construct, "CT.S3.PR.9", reason)`.

Why not register the package's own `CfnGuardValidator`:

- It reports violations without a `severity`. aws-cdk-lib 2.275.0 re-decides a report's
  success after applying acknowledgments as "no violation left with severity error or
  fatal", so ONE acknowledged cfn-guard finding turns the whole report into a success:
  synth passes with every other finding still listed (pinned by a probe test).
- Wrapping it from Python does not work either: for rules that compare with literals
  (CT.KMS.PR.3 on a key policy statement with a Condition) it reports a violating
  resource without a logical id, which jsii cannot hand to Python ("Of property
  Object.resourceLogicalId: Unable to serialize value as string"): a plugin failure.
- cfn-guard's time grows with rules x template size: all 237 controls over the default
  config's whole templates cost ~3.7 s CPU; each control over only the resources of the
  types it names ~0.4 s, same findings (`_jobs`; a test compares the two on three configs).

So this plugin runs the package's bundled `cfn-guard` and rules itself (extracted once
per package version into `.cache/`), only the controls relevant to the templates, and
reports each violation with severity "error" and the rule's own name: acknowledgment ids
are `cdk-validator-cfnguard::<guard rule name>`, as the CDK's report suggests.

Resource `Metadata: guard: SuppressedRules` does NOT work: the Control Tower rules never
read it (cfn-guard has no suppression of its own; only rules written to check it honour it).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import jsii
from aws_cdk import (
    Acknowledgment,
    App,
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
    Validations,
)
from constructs import IConstruct

PLUGIN_NAME = "cdk-validator-cfnguard"
ACK_PREFIX = f"{PLUGIN_NAME}::"  # acknowledgment ids: "<plugin name>::<guard rule name>"
DISTRIBUTION = "cdklabs.cdk-validator-cfnguard"
ACK_KEY = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
MIN_REASON = 20

_CACHE = Path(__file__).resolve().parents[2] / ".cache"
_RULES = "package/rules/control-tower/cfn-guard/"
_CONTROL = re.compile(r"\[(CT\.[A-Z0-9-]+\.PR\.\d+)\]")
_RULE = re.compile(r"^rule\s+(\w+)\s+when\b", re.M)
_TYPE = re.compile(r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+")
_NON_COMPLIANT = 19  # cfn-guard's exit code when a rule fails
_SUB = re.compile(r"\$\{([A-Za-z0-9.]+)\}")


def _guard_member() -> str:
    os_name = {"linux": "ubuntu", "darwin": "macos"}.get(sys.platform)
    machine = platform.machine().lower()
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}.get(machine)
    if not os_name or not arch:
        raise RuntimeError(f"cfn-guard is bundled for Linux and macOS on x86_64/arm64, not {sys.platform} {machine}")
    return f"package/bin/{os_name}/{arch}/cfn-guard"


@lru_cache(maxsize=None)
def bundle() -> Path:
    """`.cache/cfnguard-<version>/`: cfn-guard for this platform, the rules, index.json.

    Extracted from the package's jsii tarball on first use (~0.5 s), atomically, so
    parallel test workers can race for it.
    """
    version = metadata.version(DISTRIBUTION)
    root = _CACHE / f"cfnguard-{version}"
    if (root / "index.json").exists():
        return root
    import cdklabs.cdk_validator_cfnguard._jsii as package

    tarball = Path(package.__file__).parent / f"cdk-validator-cfnguard@{version}.jsii.tgz"
    _CACHE.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=_CACHE, prefix=".cfnguard-"))
    index: dict[str, dict] = {}
    guard = _guard_member()
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            if member.name == guard:
                (tmp / "cfn-guard").write_bytes(tar.extractfile(member).read())
                (tmp / "cfn-guard").chmod(0o755)
            elif member.isfile() and member.name.startswith(_RULES) and member.name.endswith(".guard"):
                text = tar.extractfile(member).read().decode()
                relative = member.name.removeprefix(_RULES)
                (tmp / "rules" / relative).parent.mkdir(parents=True, exist_ok=True)
                (tmp / "rules" / relative).write_text(text)
                controls, rules = set(_CONTROL.findall(text)), set(_RULE.findall(text))
                index[Path(relative).stem] = {
                    "path": relative,
                    "control": controls.pop() if len(controls) == 1 else Path(relative).stem,
                    "rule": rules.pop() if len(rules) == 1 else None,
                    "types": sorted(set(_TYPE.findall(text))),
                }
    if not (tmp / "cfn-guard").exists():
        raise RuntimeError(f"{tarball.name} has no {guard}")
    (tmp / "index.json").write_text(json.dumps(index, indent=0, sort_keys=True))
    tmp.chmod(0o755)
    try:
        os.replace(tmp, root)
    except OSError:  # another process got there first
        shutil.rmtree(tmp, ignore_errors=True)
    return root


@lru_cache(maxsize=None)
def rule_index() -> dict[str, dict]:
    """Rule file stem (ct-s3-pr-9) -> {"path", "control", "rule", "types"}."""
    return json.loads((bundle() / "index.json").read_text())


@lru_cache(maxsize=None)
def control_rules() -> dict[str, str]:
    """Control id (CT.S3.PR.9) -> Guard rule name (s3_bucket_object_lock_enabled_check)."""
    return {e["control"]: e["rule"] for e in rule_index().values() if e["rule"]}


@lru_cache(maxsize=None)
def _controls_by_rule() -> dict[str, str]:
    return {rule: control for control, rule in control_rules().items()}


def control_of(rule_name: str) -> str:
    """Guard rule name -> its control id (the rule name itself if it names no control)."""
    return _controls_by_rule().get(rule_name, rule_name)


def _walk(node: object, messages: list[str], paths: list[str]) -> None:
    """Collect a failed rule's custom messages and the template paths it traversed."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "custom_message" and isinstance(value, str):
                messages.append(value)
            elif key == "path" and isinstance(value, str):
                paths.append(value)
            else:
                _walk(value, messages, paths)
    elif isinstance(node, list):
        for value in node:
            _walk(value, messages, paths)


def _violations(results: list[dict]) -> list[PolicyViolation]:
    found: dict[str, dict] = {}
    for document in results:
        failed = document.get("not_compliant") or []
        for entry in failed.values() if isinstance(failed, dict) else failed:
            rule = entry.get("Rule", entry)
            messages: list[str] = []
            paths: list[str] = []
            _walk(rule, messages, paths)
            lines = [line.strip() for m in messages for line in m.splitlines() if line.strip()]
            violation = found.setdefault(rule["name"], {
                "description": next((line for line in lines if _CONTROL.match(line)), rule["name"]),
                "fix": next((line.removeprefix("[FIX]:").strip() for line in lines if line.startswith("[FIX]")), None),
                "resources": {},
            })
            logical_ids = {p.split("/")[2]: p for p in paths if p.startswith("/Resources/") and p.count("/") >= 2}
            if not logical_ids:  # cannot be pinned on a resource: fail, unacknowledgeable
                violation["resources"].setdefault((document["name"], None), set())
            for logical_id in logical_ids:
                locations = {p for p in paths if p.startswith(f"/Resources/{logical_id}")}
                violation["resources"].setdefault((document["name"], logical_id), set()).update(locations)
    return [
        PolicyViolation(
            rule_name=name, description=v["description"], fix=v["fix"], severity="error",
            violating_resources=[
                PolicyViolatingResource(template_path=template, resource_logical_id=logical_id,
                                        locations=sorted(locations))
                for (template, logical_id), locations in sorted(v["resources"].items(), key=str)
            ],
        )
        for name, v in sorted(found.items())
    ]


@jsii.implements(IPolicyValidationPlugin)
class ControlTowerValidator:
    """The Control Tower proactive controls, run by the bundled cfn-guard on each synth."""

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def version(self) -> str | None:
        return metadata.version(DISTRIBUTION)

    @property
    def rule_ids(self) -> list[str] | None:
        return None

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        jobs = _jobs(list(context.template_paths))
        violations = _violations(_run(jobs))
        return PolicyValidationPluginReport(success=not violations, violations=violations)


@dataclass(frozen=True)
class _Job:
    """Some rule files over one template, or over only its resources of `types`."""

    rules: tuple[str, ...]
    template: str
    types: frozenset[str] | None = None  # None: the whole template


def _jobs(templates: list[str], *, relevant_rules_only: bool = True) -> list[_Job]:
    """What to run: each rule file over each template holding a resource type it names.

    cfn-guard re-reads a data file for every rules file it evaluates, at a cost that grows
    with the file (~20 ms per rule on the default config's 65 KB Api template, ~1 ms on a
    3 KB one). A Control Tower rule selects resources by the types it names, so it runs over
    a copy of the template holding only the resources of those types and what they reference
    (everything outside `Resources` kept); rules naming the same types share one copy and one
    cfn-guard run.
    With `relevant_rules_only=False`: every rule over every whole template (the reference
    the test suite compares the findings with).
    """
    jobs = []
    for template in templates:
        present = {r.get("Type") for r in json.loads(Path(template).read_text()).get("Resources", {}).values()}
        if not relevant_rules_only:
            jobs.append(_Job(tuple(sorted(e["path"] for e in rule_index().values())), template))
            continue
        groups: dict[frozenset[str], list[str]] = {}
        for entry in rule_index().values():
            types = present.intersection(entry["types"])
            if types:
                groups.setdefault(frozenset(types), []).append(entry["path"])
        jobs += [_Job(tuple(sorted(rules)), template, types) for types, rules in groups.items()]
    return jobs


def _run(jobs: list[_Job]) -> list[dict]:
    """cfn-guard's JSON documents for every job, named by the synthesized template paths.

    The jobs run side by side (the CLI's node process idles while this plugin runs); the
    filtered copies live in a temporary directory, outside the cloud assembly, which
    validation plugins must not change.
    """
    if not jobs:
        return []
    parsed = {job.template: json.loads(Path(job.template).read_text()) for job in jobs if job.types is not None}
    with tempfile.TemporaryDirectory(prefix="cfnguard-") as work:
        def one(numbered: tuple[int, _Job]) -> list[dict]:
            number, job = numbered
            data = job.template
            if job.types is not None:
                template = parsed[job.template]
                copy = {**template, "Resources": _of_types(template.get("Resources", {}), job.types)}
                data = str(Path(work) / f"{number}.json")
                Path(data).write_text(json.dumps(copy))
            documents = _guard(job.rules, data)
            for document in documents:
                document["name"] = job.template
            return documents

        with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
            return [document for out in pool.map(one, enumerate(jobs)) for document in out]


def _of_types(resources: dict[str, dict], types: frozenset[str]) -> dict[str, dict]:
    """The resources of `types`, plus every resource they reference, transitively.

    Some rules follow a `Ref`/`Fn::GetAtt` to check that it resolves to a resource of the
    template (CT.LAMBDA.PR.2's `query_for_resource` accepts a SourceArn that points at any
    local resource, whatever its type): those resources must be in the copy too.
    """
    kept = {k for k, r in resources.items() if r.get("Type") in types}
    pending = list(kept)
    while pending:
        for name in _references(resources[pending.pop()]):
            if name in resources and name not in kept:
                kept.add(name)
                pending.append(name)
    return {k: r for k, r in resources.items() if k in kept}


def _references(node: object) -> set[str]:
    """Logical ids a resource points at: Ref, Fn::GetAtt (both forms) and Fn::Sub's ${Name}."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add((value[0] if isinstance(value, list) and value else str(value)).split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) and value else value
                if isinstance(text, str):
                    found.update(m.split(".")[0] for m in _SUB.findall(text))
            found |= _references(value)
    elif isinstance(node, list):
        for value in node:
            found |= _references(value)
    return found


def _guard(rules: tuple[str, ...], data: str) -> list[dict]:
    """Run the bundled cfn-guard over one data file with some rule files; its JSON documents."""
    root = bundle()
    command = [str(root / "cfn-guard"), "validate",
               *[arg for r in rules for arg in ("--rules", str(root / "rules" / r))],
               "--data", data,
               "--output-format", "json", "--show-summary", "none", "--structured"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in (0, _NON_COMPLIANT):
        raise RuntimeError(f"cfn-guard exited {done.returncode}: {done.stderr.strip()[:2000]}")
    return json.loads(done.stdout)


def attach_control_tower(app: App) -> None:
    """Register the Control Tower proactive controls once, on the app: findings fail synth."""
    Validations.of(app).add_plugins(ControlTowerValidator())


def acknowledge_control(construct: IConstruct, control_id: str, reason: str) -> None:
    """Acknowledge one control on `construct` and the resources beneath it, with a reason.

    Only that control, and only on resources under `construct`, stops failing:
    aws-cdk-lib applies the closest acknowledging ancestor of each violating resource.
    """
    if len(reason) < MIN_REASON:
        raise ValueError(f"acknowledgment reasons must be specific, got {reason!r}")
    rules = control_rules()
    if control_id not in rules:
        raise ValueError(f"unknown Control Tower control {control_id!r}")
    Validations.of(construct).acknowledge(Acknowledgment(id=f"{ACK_PREFIX}{rules[control_id]}", reason=reason))


def control_acknowledgments(scope: IConstruct) -> list[tuple[str, str, str]]:
    """(construct path, control id, reason) for every Control Tower acknowledgment under `scope`."""
    found = []
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == ACK_KEY:
                for rule, reason in entry.data.items():
                    if rule.startswith(ACK_PREFIX):
                        found.append((construct.node.path, control_of(rule.removeprefix(ACK_PREFIX)), reason))
    return found
