"""Synth wall time: this app's default config (four nag packs and the Control Tower
plugin), the same without the plugin, vs a one-bucket app.

All run through the same pinned `cdk synth` CLI, cold (a fresh process each time, as
an operator runs it), in one session. Goals: ratio <= 2.5 (issue 2), <= 1.5 (issue 14).
The app runs as cdk.json runs it (`python3 -O app.py`); the one-bucket app as `cdk init`
writes one (`python3 app.py`); one row shows the app without -O.

    .venv/bin/python bench/synth_bench.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CDK = REPO / "node_modules" / ".bin" / "cdk"


def synth_seconds(app: str, extra: list[str], clear_cache: bool = False) -> float:
    if clear_cache:  # as after a metadata refresh: the SDK resolves again
        shutil.rmtree(REPO / ".cache", ignore_errors=True)
    out = tempfile.mkdtemp(prefix="bench-synth-")
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    start = time.perf_counter()
    subprocess.run(
        [str(CDK), "synth", "--quiet", "--app", app, "--output", out, *extra],
        cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    py = sys.executable
    config = ["-c", "config=config/default.yaml"]
    cases = {
        "one-bucket app": (f"{py} bench/one_bucket_app.py", [], False),
        "default config + 4 nag packs": (f"{py} -O bench/nag_only_app.py", config, False),
        "default config + 4 nag packs + Control Tower": (f"{py} -O app.py", config, False),
        "same, without -O": (f"{py} app.py", config, False),
        "same (-O), resolution cache cleared first": (f"{py} -O app.py", config, True),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):  # interleaved so drift hits all alike
        for name, (app, extra, clear) in cases.items():
            results[name].append(synth_seconds(app, extra, clear))
    base = statistics.median(results["one-bucket app"])
    print(f"# synth wall time, {args.runs} cold runs each, {time.strftime('%Y-%m-%d')}, "
          f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| case | median s | min s | max s | ratio to one-bucket |")
    print("|---|---|---|---|---|")
    for name, times in results.items():
        med = statistics.median(times)
        print(f"| {name} | {med:.2f} | {min(times):.2f} | {max(times):.2f} | {med / base:.2f}x |")


if __name__ == "__main__":
    main()
