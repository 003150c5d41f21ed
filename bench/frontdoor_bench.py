"""Front-door benchmark (issues 4 and 10): package size, cold import, handler overhead.

    python bench/frontdoor_bench.py [--runs 9] [--calls 300]

- package size: the front door's code, ``lambdas/frontdoor``, ``summarizer`` and
  ``inference`` (no tests, no __pycache__), unzipped and zipped;
- cold import: ``import frontdoor.handler`` in a fresh interpreter, median of
  ``--runs``, in two environments: "lambda" (LAMBDA_TASK_ROOT set, so Powertools'
  Tracer is on and the X-Ray SDK patches botocore, as deployed) and "local" (tracing
  off). Also the X-Ray SDK's own import, for attribution, and the modules the
  import leaves for later (``DEFERRED``: loaded by the first request that needs them),
  with the first request's cost, so nothing deferred goes unmeasured;
- handler overhead: ``lambda_handler`` called in-process on a template request
  (POST /v1/templates/sentiment) against the emulator with 0 ms model latency;
  overhead = handler wall time minus the SageMaker call (Server-Timing "model"),
  so boto3's signing and the loopback HTTP round trip count as model time.

Runs on this machine only (no AWS); numbers go to docs/frontdoor.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [ROOT / "lambdas" / name for name in ("frontdoor", "summarizer", "inference")]
# Left out of the cold import on purpose (tests/lambdas/frontdoor/test_cold_start.py pins it):
# the resolver with its routes and pydantic models, the X-Ray SDK, boto3, the summarizer.
DEFERRED = ["frontdoor.api", "aws_lambda_powertools.event_handler.api_gateway", "pydantic", "aws_xray_sdk",
            "boto3", "botocore.session", "summarizer.mapreduce", "summarizer.jobs", "summarizer.settings"]
sys.path[:0] = [str(ROOT), str(ROOT / "lambdas")]

BENCH_MODELS = [
    {"name": "falcon-7b-instruct", "model_id": "huggingface-llm-falcon-7b-instruct-bf16", "endpoint_name": "ep-falcon",
     "family": "falcon", "kind": "text", "max_input_length": 1024, "max_total_tokens": 2048,
     "instance_type": "ml.g5.2xlarge", "instance_count": 1, "default": True},
    {"name": "sd-2-1-base", "model_id": "model-txt2img-stabilityai-stable-diffusion-v2-1-base",
     "endpoint_name": "ep-sd", "family": "stable-diffusion", "kind": "image", "max_input_length": None,
     "max_total_tokens": None, "instance_type": "ml.p3.2xlarge", "instance_count": 1, "default": True},
]


def package_files() -> list[Path]:
    return [p for package in PACKAGES for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            and "tests" not in p.relative_to(package).parts and p.suffix != ".pyc"]


def package_size() -> tuple[int, int, int]:
    files = package_files()
    raw = sum(p.stat().st_size for p in files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for p in files:
            archive.write(p, p.relative_to(ROOT / "lambdas"))
    return len(files), raw, len(buffer.getvalue())


def import_env(mode: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LAMBDA_", "AWS_LAMBDA_", "POWERTOOLS_", "_X_AMZN", "PYTHONDONTWRITEBYTECODE"))}
    env.update({"MODELS_JSON": json.dumps(BENCH_MODELS), "POWERTOOLS_SERVICE_NAME": "frontdoor",
                "POWERTOOLS_METRICS_NAMESPACE": "Bench", "AWS_DEFAULT_REGION": "us-east-1",
                "PYTHONPATH": str(ROOT / "lambdas")})
    if mode == "lambda":
        env.update({"LAMBDA_TASK_ROOT": str(ROOT / "lambdas"), "AWS_LAMBDA_FUNCTION_NAME": "frontdoor-bench"})
    return env


def cold_import_ms(module: str, mode: str, runs: int) -> tuple[float, float]:
    """Median (wall ms, CPU ms) of importing ``module`` in fresh interpreters.

    CPU time (process_time) is reported next to wall time because this machine is
    shared: other jobs inflate wall time, much less the CPU the import itself burns.
    """
    code = (f"import time; w = time.perf_counter(); c = time.process_time(); import {module}; "
            "print((time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000)")
    env = import_env(mode)
    subprocess.run([sys.executable, "-c", f"import {module}"], env=env, check=True)  # warm the .pyc cache
    walls, cpus = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
        wall, cpu = map(float, out.stdout.split())
        walls.append(wall)
        cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus)


FIRST_REQUEST = """
import time
from local.gateway import to_event  # harness, outside the timing
from local.lambda_runtime import LocalContext
w = time.perf_counter()
from frontdoor.handler import lambda_handler
imported = (time.perf_counter() - w) * 1000
r = lambda_handler(to_event("GET", "/v1/templates", [], b""), LocalContext())
assert r["statusCode"] == 200
print(imported, (time.perf_counter() - w) * 1000)
"""


def deferred_modules() -> list[str]:
    """Which of ``DEFERRED`` a cold import of the handler leaves unimported (Lambda env)."""
    code = f"import sys, json; import frontdoor.handler; print(json.dumps([m for m in {DEFERRED!r} if m not in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], env=import_env("lambda"), check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def first_request_ms(runs: int) -> tuple[float, float]:
    """Median (import ms, first GET /v1/templates ms after it), Lambda env: what deferred work costs."""
    env = import_env("lambda")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "lambdas"), str(ROOT)])
    env["POWERTOOLS_METRICS_DISABLED"] = "true"
    pairs = [tuple(map(float, subprocess.run([sys.executable, "-c", FIRST_REQUEST], env=env, check=True,
                                             capture_output=True, text=True).stdout.split()[-2:]))
             for _ in range(runs)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] - p[0] for p in pairs)


def handler_overhead(calls: int) -> dict[str, float]:
    from local.gateway import to_event
    from local.lambda_runtime import LocalContext
    from local.stack import start_stack

    stack = start_stack(BENCH_MODELS, port=0, feedback=False, jobs=False)
    try:
        from frontdoor.handler import lambda_handler

        body = json.dumps({"variables": {"tweet": "What a lovely morning"}}).encode()
        headers = [("Content-Type", "application/json")]
        overhead, total, model = [], [], []
        for i in range(calls + 20):
            event = to_event("POST", "/v1/templates/sentiment", headers, body)
            started = time.perf_counter()
            response = lambda_handler(event, LocalContext())
            elapsed = (time.perf_counter() - started) * 1000
            assert response["statusCode"] == 200, response
            model_ms = float(response["multiValueHeaders"]["Server-Timing"][0].split("dur=")[1])
            if i >= 20:  # warm-up: first client use, lazy imports, pydantic validators
                overhead.append(elapsed - model_ms)
                total.append(elapsed)
                model.append(model_ms)
    finally:
        stack.stop()

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1]

    return {"overhead_p50": statistics.median(overhead), "overhead_p95": pct(overhead, 95),
            "total_p50": statistics.median(total), "model_p50": statistics.median(model)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="fresh interpreters per import measurement")
    parser.add_argument("--calls", type=int, default=300, help="handler calls for the overhead measurement")
    args = parser.parse_args()

    files, raw, zipped = package_size()
    rows = [("package frontdoor + summarizer + inference (unzipped)", f"{raw / 1024:.1f} KiB in {files} files",
             "<= 5 MB", raw <= 5 * 1024 * 1024),
            ("package zipped (info)", f"{zipped / 1024:.1f} KiB", "", None)]
    lambda_wall, lambda_cpu = cold_import_ms("frontdoor.handler", "lambda", args.runs)
    local_wall, local_cpu = cold_import_ms("frontdoor.handler", "local", args.runs)
    xray_wall, xray_cpu = cold_import_ms("aws_xray_sdk.core", "lambda", args.runs)
    rows += [(f"cold import frontdoor.handler, Lambda env, wall (median of {args.runs})", f"{lambda_wall:.0f} ms",
              "<= 100 ms", lambda_wall <= 100),
             ("cold import frontdoor.handler, Lambda env, CPU time", f"{lambda_cpu:.0f} ms", "<= 100 ms",
              lambda_cpu <= 100),
             ("cold import frontdoor.handler, local env (tracing off), wall / CPU",
              f"{local_wall:.0f} / {local_cpu:.0f} ms", "", None),
             ("  of which: import aws_xray_sdk.core alone, Lambda env, wall / CPU",
              f"{xray_wall:.0f} / {xray_cpu:.0f} ms", "", None)]
    left = deferred_modules()
    rows.append(("  deferred to the first request (not imported at init)", f"{len(left)} of {len(DEFERRED)}",
                 f"{len(DEFERRED)}", len(left) == len(DEFERRED)))
    rows += [(f"    {name}", "deferred" if name in left else "IMPORTED", "", None) for name in DEFERRED]
    _, first_ms = first_request_ms(args.runs)
    rows.append(("  first request after the cold import (GET /v1/templates): the deferred work, wall",
                 f"{first_ms:.0f} ms", "", None))
    rows.append(("  cold import + first request, wall (the whole cold start)", f"{lambda_wall + first_ms:.0f} ms", "",
                 None))
    stats = handler_overhead(args.calls)
    rows += [(f"handler overhead excl. model, template call p50 ({args.calls} calls)",
              f"{stats['overhead_p50']:.2f} ms", "<= 5 ms", stats["overhead_p50"] <= 5),
             ("handler overhead excl. model, p95", f"{stats['overhead_p95']:.2f} ms", "", None),
             ("  whole handler p50 / SageMaker call p50 (emulator, 0 ms model)",
              f"{stats['total_p50']:.2f} / {stats['model_p50']:.2f} ms", "", None)]

    print(f"frontdoor bench  {time.strftime('%Y-%m-%d')}  {platform.machine()} {os.cpu_count()} cores  "
          f"Python {platform.python_version()}  load average {os.getloadavg()[0]:.1f} (shared machine)")
    width = max(len(r[0]) for r in rows)
    print(f"{'metric'.ljust(width)}  {'value':>24}  {'target':>10}  ok")
    for name, value, target, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name.ljust(width)}  {value:>24}  {target:>10}  {mark}")


if __name__ == "__main__":
    main()
