"""Token streaming benchmark (issue 12): time to first byte and to last byte, streaming vs
buffered, through the local stack (``local.serve``: API Gateway stand-in -> streaming
function's web server or the buffered handler -> boto3 -> SageMaker runtime emulator).

    python bench/stream_bench.py [--runs 3] [--tokens 400] [--first-token-ms 300] [--per-token-ms 30]

The emulator answers like a 7B model on a g5: the first token ``--first-token-ms`` after the
request, then one every ``--per-token-ms`` (``local.emulator.streaming``: a stream's token i
at ``first + i * per``; a buffered answer of n tokens after ``first + n * per``). Each run
sends the same request (exactly ``--tokens`` tokens, no stop) to ``POST /v1/generate/stream``
and ``POST /v1/generate``, interleaved, and times from the request to the first and to the
last byte of the response body.

Bars: streaming first byte <= first-token latency + 50 ms; streaming last byte <= 1.05 x the
buffered answer's last byte. Runs on this machine only (no AWS); results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "lambdas")]

MODELS = [{"name": "falcon-7b-instruct", "model_id": "huggingface-llm-falcon-7b-instruct-bf16",
           "endpoint_name": "ep-falcon", "family": "falcon", "kind": "text", "max_input_length": 1024,
           "max_total_tokens": 2048, "instance_type": "ml.g5.2xlarge", "instance_count": 1, "default": True}]
FIRST_BYTE_MARGIN_MS = 50.0
TOTAL_RATIO = 1.05


def timed_post(url: str, path: str, body: dict) -> tuple[float, float, int, bytes]:
    """(ms to the first body byte, ms to the last, status, body) of one POST."""
    target = urlsplit(url)
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
    data = json.dumps(body).encode()
    started = time.perf_counter()
    connection.request("POST", path, body=data, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    chunks = [response.read1(65536)]
    first = time.perf_counter()
    while chunk := response.read1(65536):
        chunks.append(chunk)
    last = time.perf_counter()
    connection.close()
    return (first - started) * 1000, (last - started) * 1000, response.status, b"".join(chunks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=400)
    parser.add_argument("--first-token-ms", type=float, default=300.0)
    parser.add_argument("--per-token-ms", type=float, default=30.0)
    parser.add_argument("--json", action="store_true", help="print the raw numbers as JSON too")
    args = parser.parse_args(argv)

    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no EMF lines among the results
    from local.stack import start_stack

    stack = start_stack(MODELS, port=0, first_token_ms=args.first_token_ms, per_token_ms=args.per_token_ms,
                        feedback=False, jobs=False)
    stack.restore_env()
    try:
        runs, texts, tokens = measure(stack.url, args.runs, args.tokens)
    finally:
        stack.stop()
    return print_report(args, runs, texts, tokens)


def measure(
    url: str, count: int, max_new_tokens: int
) -> tuple[dict[str, list[tuple[float, float]]], dict[str, str], int | None]:
    """`count` runs of the same request, streaming and buffered interleaved: (first, last byte
    ms) per run by kind, each kind's final text, and the token events of a stream."""
    body = {"inputs": "Write a long story about the sea.", "parameters": {"max_new_tokens": max_new_tokens}}
    # One short call of each first: imports, connections and clients are warm, as in a warm Lambda.
    warm = {"inputs": "hi", "parameters": {"max_new_tokens": 2}}
    timed_post(url, "/v1/generate/stream", warm)
    timed_post(url, "/v1/generate", warm)
    runs: dict[str, list[tuple[float, float]]] = {"stream": [], "buffered": []}
    texts: dict[str, str] = {}
    tokens = None
    for _ in range(count):
        for kind, path in (("stream", "/v1/generate/stream"), ("buffered", "/v1/generate")):
            first, last, status, payload = timed_post(url, path, body)
            if status != 200:
                raise SystemExit(f"{path} answered {status}: {payload[:300]!r}")
            runs[kind].append((first, last))
            if kind == "stream":
                done = [line for line in payload.decode().split("\n") if line.startswith("data:")][-1]
                texts[kind] = json.loads(done[5:])["text"]
                tokens = payload.count(b"event: token")
            else:
                texts[kind] = json.loads(payload)["output"]
    return runs, texts, tokens


def print_report(args: argparse.Namespace, runs: dict[str, list[tuple[float, float]]], texts: dict[str, str],
                 tokens: int | None) -> int:
    """The medians against the bars; the exit code: 0 when both bars hold."""
    med = {kind: (statistics.median(f for f, _ in r), statistics.median(t for _, t in r)) for kind, r in runs.items()}
    stream_first, stream_last = med["stream"]
    buffered_first, buffered_last = med["buffered"]
    model_stream = args.first_token_ms + (args.tokens - 1) * args.per_token_ms
    model_buffered = args.first_token_ms + args.tokens * args.per_token_ms
    first_bar = args.first_token_ms + FIRST_BYTE_MARGIN_MS
    ratio = stream_last / buffered_last
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"stream bench  {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC  {platform.machine()} "
          f"{os.cpu_count()} cores  Python {platform.python_version()}  load average {load:.1f}")
    print(f"emulator: first token {args.first_token_ms:.0f} ms, {args.per_token_ms:.0f} ms/token, "
          f"{args.tokens} tokens; {args.runs} runs each, medians")
    print(f"{'metric':58} {'value':>12} {'bar':>14}  ok")
    rows = [
        ("streaming: first byte (first token event)", stream_first, f"<= {first_bar:.0f} ms", stream_first <= first_bar),
        ("streaming: last byte", stream_last, "", None),
        ("buffered: first byte (= the whole answer)", buffered_first, "", None),
        ("buffered: last byte", buffered_last, "", None),
        ("streaming last byte / buffered last byte", ratio, f"<= {TOTAL_RATIO:.2f}x", ratio <= TOTAL_RATIO),
        ("streaming: first byte - emulator first token", stream_first - args.first_token_ms, "", None),
        ("streaming: last byte - emulator's last token", stream_last - model_stream, "", None),
        ("buffered: last byte - emulator's answer", buffered_last - model_buffered, "", None),
    ]
    for name, value, bar, ok in rows:
        shown = f"{value:.3f}x" if name.endswith("last byte") and "/" in name else f"{value:.1f} ms"
        print(f"{name:58} {shown:>12} {bar:>14}  {'' if ok is None else ('yes' if ok else 'NO')}")
    print(f"token events per stream: {tokens}; final text equals the buffered output: {texts['stream'] == texts['buffered']}")
    if args.json:
        print(json.dumps({"runs": runs, "medians": med}, indent=1))
    return 0 if stream_first <= first_bar and ratio <= TOTAL_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
