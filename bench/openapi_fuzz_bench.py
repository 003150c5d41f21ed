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

# A catalog with every family the front door speaks (their rules differ) and both kinds.
MODELS = [
    {"name": "falcon-7b-instruct", "model_id": "huggingface-llm-falcon-7b-instruct-bf16", "endpoint_name": "ep-falcon",
     "family": "falcon", "kind": "text", "max_input_length": 1024, "max_total_tokens": 2048,
     "instance_type": "ml.g5.2xlarge", "instance_count": 1, "default": True},
    {"name": "llama-2-7b-chat", "model_id": "meta-textgeneration-llama-2-7b-f", "endpoint_name": "ep-llama",
     "family": "llama2", "kind": "text", "max_input_length": 4095, "max_total_tokens": 4096,
     "instance_type": "ml.g5.12xlarge", "instance_count": 1, "default": False},
    {"name": "mistral-7b-instruct", "model_id": "huggingface-llm-mistral-7b-instruct", "endpoint_name": "ep-mistral",
     "family": "mistral", "kind": "text", "max_input_length": 4095, "max_total_tokens": 4096,
     "instance_type": "ml.g5.12xlarge", "instance_count": 1, "default": False},
    {"name": "flan-t5-xl", "model_id": "huggingface-text2text-flan-t5-xl", "endpoint_name": "ep-flan",
     "family": "flan-t5", "kind": "text", "max_input_length": 1024, "max_total_tokens": 2048,
     "instance_type": "ml.g5.2xlarge", "instance_count": 1, "default": False},
    {"name": "j2-mid", "model_id": "ai21-j2-mid", "endpoint_name": "ep-j2", "family": "ai21-j2", "kind": "text",
     "max_input_length": 8000, "max_total_tokens": 8191, "instance_type": "ml.g5.12xlarge", "instance_count": 1,
     "default": False},
    {"name": "sd-2-1-base", "model_id": "model-txt2img-stabilityai-stable-diffusion-v2-1-base",
     "endpoint_name": "ep-sd", "family": "stable-diffusion", "kind": "image", "max_input_length": None,
     "max_total_tokens": None, "instance_type": "ml.p3.2xlarge", "instance_count": 1, "default": True},
]
TEMPLATES = [{"name": "haiku", "description": "An operator-added template: a haiku about a topic.",
              "template": "Write a haiku about ${topic}.",
              "variables": [{"name": "topic", "description": "Topic", "max_chars": 100}],
              "parameters": {"max_new_tokens": 30}}]


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
    from local.serve import start_stack

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
    ok = (not result.failures and not result.failed_checks and result.exit_code == 0
          and result.cases >= 1000 and len(operations) == 9 and idle)
    print(f"bar: >= 1,000 cases across all 9 operations, 0 failures: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
