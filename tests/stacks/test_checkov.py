"""checkov, an IaC scanner independent of cdk-nag, over every config's templates:
zero failed checks; every skip is recorded on its resource with a specific reason.

checkov lives in its own venv (`make checkov-setup` -> .venv-checkov) so its
dependencies never constrain the app's pinned ones. It runs once per test
session (per xdist worker) over all configs: one process start, not one per
template. Without --quiet, so that the JSON lists passed and skipped checks too
(counted per config from their file paths).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest
from aws_cdk import CfnResource, Stack

from stacks.compliance.scanner import checkov_skips, skip_checkov
from tests.synth import CONFIGS, REPO, synth

CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"


@lru_cache(maxsize=None)
def scan() -> dict[str, dict]:
    """Config name -> {"passed": count, "failed": [check], "skipped": [check]} from one checkov run."""
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make checkov-setup` (make test does it)")
    root = Path(tempfile.mkdtemp(prefix="checkov-"))
    for name, path in CONFIGS.items():
        (root / name).mkdir()
        for stack_id, template in synth(path).templates().items():
            (root / name / f"{stack_id}.template.json").write_text(json.dumps(template, indent=1))
    result = subprocess.run(
        [str(CHECKOV), "--directory", str(root), "--framework", "cloudformation", "--output", "json",
         # --skip-download: no calls to the vendor's platform; the scan is offline.
         "--skip-download"],
        capture_output=True, text=True, timeout=600,
    )
    # Exit code 1 means "failed checks"; anything else non-zero is a crash.
    assert result.returncode in (0, 1), result.stderr[-3000:]
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    by_config: dict[str, dict] = {name: {"passed": 0, "failed": [], "skipped": []} for name in CONFIGS}
    for report in reports:
        results = report.get("results", {})
        for outcome in ("passed_checks", "failed_checks", "skipped_checks"):
            for check in results.get(outcome, []):
                config = Path(check["file_path"]).parts[1]  # "/<config>/<Stack>.template.json"
                entry = by_config[config]
                if outcome == "passed_checks":
                    entry["passed"] += 1
                else:
                    entry[outcome.removesuffix("_checks")].append(check)
    return by_config


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_checkov_finds_no_failed_check(config):
    found = scan()[config]
    print(f"checkov {config}: passed {found['passed']}, failed {len(found['failed'])}, "
          f"skipped {len(found['skipped'])}")
    failures = [f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}" for c in found["failed"]]
    assert not failures, "\n".join(failures)
    assert found["passed"] > 100  # the scan really looked at the templates


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_every_checkov_skip_is_recorded_in_metadata_with_its_reason(config):
    # Given the skips written into the templates
    recorded = {
        (f"{stack_id}", lid, check): reason
        for stack_id, template in synth(CONFIGS[config]).templates().items()
        for lid, check, reason in checkov_skips(template)
    }
    # Then checkov skipped exactly those, for exactly those reasons
    honoured = {
        (Path(c["file_path"]).stem.removesuffix(".template"), c["resource"].split(".", 1)[1], c["check_id"]):
            c["check_result"].get("suppress_comment")
        for c in scan()[config]["skipped"]
    }
    assert honoured == recorded
    for (stack_id, lid, check), reason in sorted(recorded.items()):
        print(f"{config}/{stack_id}/{lid}: {check}: {reason}")
        assert len(reason) >= 40


def test_skip_checkov_merges_skips_and_checkov_skips_lists_them():
    stack = Stack()
    resource = CfnResource(stack, "Thing", type="AWS::SQS::Queue")
    skip_checkov(resource, "CKV_AWS_27", "A reason long enough to say why this check does not apply here.")
    skip_checkov(resource, "CKV_AWS_1", "Another reason, long enough to say why this one does not apply.")
    skip_checkov(resource, "CKV_AWS_27", "A replacement reason for the same check, also long enough.")
    template = {"Resources": {"Thing": {"Type": "AWS::SQS::Queue", "Metadata": {
        "checkov": stack.resolve(resource.get_metadata("checkov"))}}}}
    assert checkov_skips(template) == [
        ("Thing", "CKV_AWS_1", "Another reason, long enough to say why this one does not apply."),
        ("Thing", "CKV_AWS_27", "A replacement reason for the same check, also long enough."),
    ]


def test_skip_checkov_refuses_vague_reasons():
    resource = CfnResource(Stack(), "Thing", type="AWS::SQS::Queue")
    with pytest.raises(ValueError, match="specific"):
        skip_checkov(resource, "CKV_AWS_27", "false positive")
