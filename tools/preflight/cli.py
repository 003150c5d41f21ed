"""Read-only checks against the operator's AWS account before `cdk deploy`.

The command line (python -m tools.preflight): the results as an aligned table with each
non-PASS row's fix under it, a summary line, and the exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import boto3

from stacks.config import REPO, ConfigError, load_config
from tools.preflight.results import CannotRun, Result
from tools.preflight.runner import run


def format_table(results: list[Result]) -> str:
    """Aligned columns; each non-PASS row's fix on its own line under it."""
    head = ("CHECK", "SUBJECT", "STATUS", "DETAIL")
    rows = [head, *[(r.check, r.subject, r.status, r.detail) for r in results]]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for result, row in zip([None, *results], rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[3])
        if result is not None and result.fix and result.status != "PASS":
            lines.append(" " * (sum(widths) + 6) + "fix: " + result.fix)
    return "\n".join(lines)


def summary(results: list[Result], config, region: str) -> str:
    counts = Counter(r.status for r in results)
    tally = ", ".join(f"{counts[s]} {s}" for s in ("PASS", "WARN", "FAIL", "SKIP") if counts[s])
    verdict = "not ready to deploy" if counts["FAIL"] else "ready to deploy"
    return f"preflight {config.project_name} in {region}: {tally} -> {verdict}"


def main(argv: list[str] | None = None, session: boto3.Session | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.preflight", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="deployment config (default: config/default.yaml)")
    parser.add_argument("--region", default=None, help="default: the config's region")
    parser.add_argument("--assembly", type=Path, default=REPO / "cdk.out", help="synthesized assembly, if any")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        region = args.region or config.region
        results = run(session, config, region, args.assembly)
    except (ConfigError, CannotRun) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(format_table(results))
    print(summary(results, config, region))
    return 1 if any(r.status == "FAIL" for r in results) else 0
