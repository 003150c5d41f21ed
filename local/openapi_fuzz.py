"""Schemathesis, every check, over the served OpenAPI document of a local stack.

Used by ``tests/lambdas/frontdoor/test_openapi_fuzz.py`` (small) and
``bench/openapi_fuzz_bench.py`` (>= 1,000 cases). It runs the schemathesis CLI
(all phases: examples, coverage, fuzzing, stateful; positive and negative data;
``--checks all``) in a subprocess against a local front whose gateway authorizes
as the deployed API does (``LocalStack.front(auth="iam")``), every request signed
by ``local.openapi_fuzz_hooks``. The document is fetched from the server
(``GET /v1/openapi.json``, signed like every call) and handed to the CLI as a file.

Before the run it makes what schemathesis cannot make itself (``seed_data``): an
uploaded input and a finished summarization job of the caller, whose ``job_id``
the generated requests then use half the time (a schemathesis dictionary), so job
statuses and their schema are checked too. (Not the ``s3_key``: a dictionary value
put into a body with a ``text`` would break the exactly-one rule while schemathesis
still counts the body as valid.)

Two checks get their expected statuses widened, each by what JSON Schema cannot say
(``CHECK_CONFIG``); nothing is excluded:

- ``positive_data_acceptance`` also accepts 422: a request the document accepts can
  still name something this deployment cannot do (a parameter the model's family
  lacks, max_new_tokens over its budget, a text model on /v1/images, a template's
  variables, no default model of a kind) or be refused by the model itself; that is
  what 422 means here (``frontdoor.errors``). 400 stays a failure: the document
  promises what is well formed.
- both it and ``negative_data_rejection`` also accept 413: a body over the route's
  byte cap is refused before it is parsed. JSON Schema counts characters; the bytes
  of a body depend on how it is encoded (schemathesis sends ``\\uXXXX`` escapes, up
  to 12 bytes for one character), so the document cannot state the cap; it lists
  413 on every operation (API Gateway's own 10 MB limit applies to any method).
- on the OpenAI-compatible operations (tag ``openai``), ``positive_data_acceptance``
  accepts 400 where the native routes' entry accepts 422: OpenAI's contract answers what
  this deployment cannot do with 400 (``context_length_exceeded`` for a prompt over the
  model's context, a family's special tags or parameter range), and its SDKs expect it
  (docs/openai-compatibility.md). A model of the wrong kind is 404, as OpenAI answers it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOOKS = "local.openapi_fuzz_hooks"
STATEFUL = "Stateful tests"

CHECK_CONFIG = """\
# Written by local/openapi_fuzz.py; see its docstring for why each status is added.
[checks.positive_data_acceptance]
# schemathesis' default + 422 (valid per the document, not for this deployment's models/templates)
# + 413 (body over the route's byte cap; the document counts characters, not encoded bytes)
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "413", "422", "429", "5xx"]

[checks.negative_data_rejection]
# schemathesis' default + 413 (body over the route's byte cap, refused before parsing)
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]

[[operations]]
# OpenAI-compatible routes: what the native routes answer 422 is 400 here, as OpenAI answers it
# (a prompt over the model's context, context_length_exceeded; a family's special tags or range).
include-tag = "openai"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "413", "429", "5xx"]
"""


@dataclass
class FuzzResult:
    command: list[str]
    exit_code: int
    elapsed_s: float
    cases: int
    """Test cases schemathesis generated (its own count)."""
    unique_failures: int
    failures: list[dict[str, Any]]
    """Distinct failures as the JSON report groups them: code, title, count, operations."""
    operations: dict[str, Counter] = field(default_factory=dict)
    """Per operation (and ``Stateful tests``): cases, positive, negative, failed."""
    checks: dict[str, Counter] = field(default_factory=dict)
    """Per check: run, failed (cases whose response failed it)."""
    statuses: Counter = field(default_factory=Counter)
    missing_request_id: int = 0
    """Responses without an ``x-request-id`` header."""
    output: str = ""

    @property
    def failed_checks(self) -> dict[str, int]:
        return {name: c["failed"] for name, c in self.checks.items() if c["failed"]}


def _auth(sign: bool) -> Any:
    if not sign:
        return None
    from local.iam import LOCAL_IAM_USERS
    from local.openapi_fuzz_hooks import ACCESS_KEY, REGION, SigV4

    return SigV4(ACCESS_KEY, LOCAL_IAM_USERS[ACCESS_KEY][0], REGION)


def fetch_document(base_url: str, sign: bool = True) -> str:
    """The served document, fetched as a client of the deployed API would (signed)."""
    import requests

    response = requests.get(f"{base_url}/v1/openapi.json", auth=_auth(sign), timeout=30)
    response.raise_for_status()
    return response.text


def seed_data(base_url: str, sign: bool = True, timeout_s: float = 120) -> dict[str, list[str]]:
    """An uploaded text (``POST /v1/uploads`` + the presigned S3 POST) and a job made
    from it (``POST /v1/summarize``), finished; {} when the stack has no async jobs."""
    import requests

    auth = _auth(sign)
    ticket = requests.post(f"{base_url}/v1/uploads", json={}, auth=auth, timeout=30)
    if ticket.status_code != 200:
        return {}
    upload = ticket.json()
    text = "The harbour reopened after the storm. Ships queued at the mouth of the river. " * 20
    stored = requests.post(upload["url"], data=upload["fields"], files={"file": ("input.txt", text.encode())},
                           timeout=30)
    stored.raise_for_status()
    accepted = requests.post(f"{base_url}/v1/summarize", json={"s3_key": upload["s3_key"]}, auth=auth, timeout=60)
    if accepted.status_code != 202:
        raise RuntimeError(f"summarize of an upload: {accepted.status_code} {accepted.text[:500]}")
    job_id = accepted.json()["job_id"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = requests.get(f"{base_url}/v1/jobs/{job_id}", auth=auth, timeout=30).json().get("status")
        if status in ("SUCCEEDED", "FAILED"):
            break
        time.sleep(0.2)
    return {"s3_key": [upload["s3_key"]], "job_id": [job_id]}


def _config(data: dict[str, list[str]]) -> str:
    """CHECK_CONFIG, and the seeded job ids as a dictionary drawn half the time."""
    locations = {"job_id": "path.job_id"}
    data = {name: values for name, values in data.items() if name in locations}
    lines = [CHECK_CONFIG]
    for name, values in data.items():
        lines.append(f"[dictionaries.{name}]\nvalues = {json.dumps(values)}\n")
    if data:
        lines.append("[parameters]")
        lines += [f'"{locations[name]}" = {{ dictionary = "{name}", probability = 0.5 }}' for name in data]
    return "\n".join(lines) + "\n"


def run(base_url: str, report_dir: Path, *, max_examples: int, seed: int = 0, workers: int = 1,
        phases: str | None = None, sign: bool = True, timeout_s: float = 1800, seed_jobs: bool = True,
        extra_args: tuple[str, ...] = ()) -> FuzzResult:
    """Run ``schemathesis run --checks all`` against ``base_url`` and read its reports."""
    report_dir.mkdir(parents=True, exist_ok=True)
    document = report_dir / "openapi.json"
    document.write_text(fetch_document(base_url, sign), encoding="utf-8")
    config = report_dir / "schemathesis.toml"
    config.write_text(_config(seed_data(base_url, sign) if seed_jobs else {}), encoding="utf-8")
    json_report, ndjson_report = report_dir / "report.json", report_dir / "events.ndjson"
    for stale in (json_report, ndjson_report):
        stale.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file", str(config),
        "run", str(document), "--url", base_url, "--checks", "all", "--mode", "all",
        "--max-examples", str(max_examples), "--seed", str(seed), "--workers", str(workers),
        "--continue-on-failure", "--request-timeout", "60", "--output-truncate", "true",
        "--report", "json,ndjson", "--report-json-path", str(json_report),
        "--report-ndjson-path", str(ndjson_report), *(["--phases", phases] if phases else []), *extra_args,
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("SCHEMATHESIS_HOOKS", None)
    if sign:  # the hooks module signs every request
        env["SCHEMATHESIS_HOOKS"] = HOOKS
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s)
    elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    if not json_report.exists():
        raise RuntimeError(f"schemathesis wrote no report (exit {done.returncode}):\n{output[-4000:]}")
    report = json.loads(json_report.read_text(encoding="utf-8"))
    result = FuzzResult(command=command, exit_code=done.returncode, elapsed_s=elapsed,
                        cases=report["test_cases"]["generated"],
                        unique_failures=report["test_cases"]["unique_failures"],
                        failures=[*report.get("failures", []),
                                  *({"code": "error", **e} for e in report.get("errors", []))],
                        output=output)
    _read_events(ndjson_report, result)
    return result


def _read_events(path: Path, result: FuzzResult) -> None:
    operations: dict[str, Counter] = defaultdict(Counter)
    checks: dict[str, Counter] = defaultdict(Counter)
    for line in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        label = recorder.get("label", "?")
        for case_id, node in recorder.get("cases", {}).items():
            case = node["value"]
            # Cases sent with an undeclared method count for the operation they probe.
            row = operations[STATEFUL if finished["phase"] == "stateful" else label]
            row["cases"] += 1
            row[case.get("meta", {}).get("generation", {}).get("mode", "positive")] += 1
            outcomes = recorder.get("checks", {}).get(case_id, [])
            for outcome in outcomes:
                checks[outcome["name"]]["run"] += 1
                checks[outcome["name"]]["failed"] += outcome["status"] == "failure"
            row["failed"] += any(o["status"] == "failure" for o in outcomes)
        for interaction in recorder.get("interactions", {}).values():
            response = interaction.get("response") or {}
            if "status_code" in response:
                result.statuses[response["status_code"]] += 1
                if "x-request-id" not in {k.lower() for k in response.get("headers") or {}}:
                    result.missing_request_id += 1
    result.operations = dict(operations)
    result.checks = dict(checks)


def table(result: FuzzResult) -> str:
    """Operations (cases, positive, negative, failed), checks (run, failed), totals."""
    lines = [f"{'operation':<28}{'cases':>8}{'positive':>10}{'negative':>10}{'failed':>8}"]
    for name in sorted(result.operations, key=lambda n: (n == STATEFUL, n.split(" ", 1)[-1], n)):
        row = result.operations[name]
        lines.append(f"{name:<28}{row['cases']:>8}{row['positive']:>10}{row['negative']:>10}{row['failed']:>8}")
    total = sum((row for row in result.operations.values()), Counter())
    lines.append(f"{'total':<28}{total['cases']:>8}{total['positive']:>10}{total['negative']:>10}{total['failed']:>8}")
    lines.append("")
    lines.append(f"{'check':<30}{'run':>8}{'failed':>8}")
    for name in sorted(result.checks):
        lines.append(f"{name:<30}{result.checks[name]['run']:>8}{result.checks[name]['failed']:>8}")
    lines.append("")
    statuses = " ".join(f"{code}:{n}" for code, n in sorted(result.statuses.items()))
    lines.append(f"responses by status: {statuses}")
    lines.append(f"responses without x-request-id: {result.missing_request_id}")
    lines.append(f"schemathesis: {result.cases} cases generated, {result.unique_failures} unique failures, "
                 f"exit code {result.exit_code}, {result.elapsed_s:.1f} s")
    for failure in result.failures:
        lines.append(f"  FAILURE {failure.get('code')} {failure.get('title', '')}: {failure.get('count', '')} "
                     f"{', '.join(failure.get('operations', []))}")
    return "\n".join(lines)
