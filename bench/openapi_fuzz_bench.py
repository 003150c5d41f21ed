"""API contract fuzzing (issue 10, item 3): schemathesis with every check over the
served OpenAPI document of the local stack, at a size the test suite cannot afford.

    python bench/openapi_fuzz_bench.py [--max-examples 100] [--seed 0] [--workers 2]

Starts the local stack (SageMaker emulator, moto, the front door, the jobs worker)
behind a gateway that authorizes as the deployed API does (SigV4, ``api.auth: iam``)
and runs ``local.openapi_fuzz``: the schemathesis CLI, ``--checks all``, all phases
(examples, coverage, fuzzing, stateful), positive and negative data, every request
signed. Prints one table: cases per operation (positive / negative / failed), each
check's runs and failures, responses by status. Bar (issue 10): >= 1,000 cases across
every operation, 0 failures. Exit status 1 on any failure. Runs on this machine only
(no AWS); numbers go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "lambdas")]

# A catalog with every family the front door speaks (their rules differ) and both kinds, and
# the operator-added template: the same ones the tests' local stack runs (tests/lambdas/conftest.py).
from tests.lambdas.local_catalog import CATALOG as MODELS  # noqa: E402
from tests.lambdas.local_catalog import OPERATOR_TEMPLATES as TEMPLATES  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=100, help="per operation and phase (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--phases", default=None, help="e.g. coverage,fuzzing (default: all four)")
    parser.add_argument("--report-dir", type=Path, default=None,
                        help="schemathesis' reports and the stack's log (default: a new temporary directory)")
    args = parser.parse_args(argv)

    import schemathesis

    from local import openapi_fuzz
    from local.stack import start_stack
    from stacks.contract import openapi

    report_dir = args.report_dir or Path(tempfile.mkdtemp(prefix="openapi-fuzz-"))
    report_dir.mkdir(parents=True, exist_ok=True)
    # The stack's handlers log (and print metrics) to this process' stdout: into a file, not the table.
    sys.stdout.flush()
    saved_stdout = os.dup(1)
    with open(report_dir / "stack.log", "wb") as log:
        os.dup2(log.fileno(), 1)
        try:
            stack = start_stack(MODELS, port=0, extra_templates=TEMPLATES, sync_budget_s=15, auth="iam")
            stack.restore_env()
            try:
                result = openapi_fuzz.run(stack.url, report_dir, max_examples=args.max_examples, seed=args.seed,
                                          workers=args.workers, phases=args.phases)
                idle = stack.worker is None or stack.worker.wait_idle(300)
            finally:
                stack.stop()
        finally:
            sys.stdout.flush()
            os.dup2(saved_stdout, 1)
            os.close(saved_stdout)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"openapi fuzz bench  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {platform.machine()} "
          f"{os.cpu_count()} cores  Python {platform.python_version()}  schemathesis {schemathesis.__version__}  "
          f"load average {load:.1f}")
    print(f"--checks all, phases {args.phases or 'examples,coverage,fuzzing,stateful'}, --max-examples "
          f"{args.max_examples}, --seed {args.seed}, --workers {args.workers}, SigV4-signed; reports and log in "
          f"{report_dir}")
    print(openapi_fuzz.table(result))
    operations = {name for name in result.operations if name != openapi_fuzz.STATEFUL}
    documented = {f"{op.method} {op.path}" for op in openapi.operations(openapi.load())
                  if (op.path, op.method) not in openapi.UNDOCUMENTED_ROUTES}
    ok = (not result.failures and not result.failed_checks and result.exit_code == 0
          and result.cases >= 1000 and operations == documented and idle)
    print(f"bar: >= 1,000 cases across all {len(documented)} operations of the document, 0 failures: "
          f"{'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
