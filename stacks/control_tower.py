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
- cfn-guard's time grows with rules x template size: all 237 controls on the default
  config's templates cost ~3.7 s CPU, the ~32 that name a resource type present ~0.6 s,
  same findings. A Guard rule SKIPs a template without its resource types anyway.

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

_CACHE = Path(__file__).resolve().parent.parent / ".cache"
_RULES = "package/rules/control-tower/cfn-guard/"
_CONTROL = re.compile(r"\[(CT\.[A-Z0-9-]+\.PR\.\d+)\]")
_RULE = re.compile(r"^rule\s+(\w+)\s+when\b", re.M)
_TYPE = re.compile(r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+")
_NON_COMPLIANT = 19  # cfn-guard's exit code when a rule fails


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

    def __init__(self, *, relevant_rules_only: bool = True) -> None:
        self._relevant_rules_only = relevant_rules_only

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
        templates = list(context.template_paths)
        jobs = _jobs(templates, relevant_rules_only=self._relevant_rules_only)
        if not jobs:
            return PolicyValidationPluginReport(success=True, violations=[])
        # cfn-guard re-reads every data file for every rules file (~17 ms per rule on a 65 KB
        # template), so a rule runs only on the templates holding its resource types, and the
        # pieces run side by side: the CLI's node process idles while this callback runs.
        with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
            results = [document for out in pool.map(_guard, jobs) for document in out]
        violations = _violations(results)
        return PolicyValidationPluginReport(success=not violations, violations=violations)


def _jobs(templates: list[str], *, relevant_rules_only: bool = True) -> list[tuple[list[str], str]]:
    """(rule files, template) pieces of about equal cost, the costliest first.

    The cost of one cfn-guard run is about (rule files) x (template size). A template's rules
    are split so no piece costs more than an even share of the whole across the cores.
    """
    pieces = []
    for template in templates:
        text = Path(template).read_text()
        present = {r.get("Type") for r in json.loads(text).get("Resources", {}).values()}
        rules = sorted(e["path"] for e in rule_index().values()
                       if not relevant_rules_only or present.intersection(e["types"]))
        if rules:
            pieces.append((rules, template, len(rules) * len(text)))
    share = sum(cost for *_, cost in pieces) / (os.cpu_count() or 1)
    jobs = []
    for rules, template, cost in pieces:
        parts = max(1, min(len(rules), round(cost / share))) if share else 1
        jobs += [(rules[i::parts], template, cost / parts) for i in range(parts)]
    return [(rules, template) for rules, template, _ in sorted(jobs, key=lambda j: -j[2])]


def _guard(job: tuple[list[str], str]) -> list[dict]:
    """Run the bundled cfn-guard over one template with some rule files; its JSON documents."""
    rules, template = job
    root = bundle()
    command = [str(root / "cfn-guard"), "validate",
               *[arg for r in rules for arg in ("--rules", str(root / "rules" / r))],
               "--data", template,
               "--output-format", "json", "--show-summary", "none", "--structured"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in (0, _NON_COMPLIANT):
        raise RuntimeError(f"cfn-guard exited {done.returncode}: {done.stderr.strip()[:2000]}")
    return json.loads(done.stdout)


def attach_control_tower(app: App, *, relevant_rules_only: bool = True) -> None:
    """Register the Control Tower proactive controls once, on the app: findings fail synth."""
    Validations.of(app).add_plugins(ControlTowerValidator(relevant_rules_only=relevant_rules_only))


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
