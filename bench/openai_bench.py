"""OpenAI-compatible routes benchmark (issue 20): handler overhead over the native routes,
the tenant authorizer's cold and warm latency, streamed first byte, the whole cold start.

    python bench/openai_bench.py [--calls 300] [--runs 9] [--stream-runs 15] [--before bf49b6d]

(a) In process, emulator at 0 ms, same model, prompt and max tokens, interleaved: native POST
    /v1/generate through ``frontdoor.handler.lambda_handler``; POST /v1/chat/completions (stream
    false) through the same handler (the resolver twin) and through the streaming function's
    ``StreamApp.handle``. Overhead = wall minus the time inside ``SageMakerRuntime.invoke``
    (boto3 + loopback HTTP), timed alike for all three (for native it equals Server-Timing).
(b) ``tenants.authorizer.handler`` against a loopback GetItem stub (``--dynamodb moto``: moto's
    server): cold = a fresh interpreter's import + first call (boto3, client, one GetItem); warm
    = in process. Peer: the same GetItem from a bare client, in the same run.
(c) Through the local stack (gateway -> streaming server -> emulator paced like a 7B on a g5):
    first byte of POST /v1/chat/completions (stream) and of POST /v1/generate/stream, same prompt
    and max tokens, interleaved; also the first byte holding a token (a chat stream opens with
    the role chunk).
(d) Fresh interpreter, Lambda env: import ``frontdoor.handler`` + first GET /v1/templates (as
    bench/frontdoor_bench.py), wall and CPU, against the tree before issue 20 (``--before``, read
    with ``git archive``) in the same run, and the libraries that request loads, alone (floor).

Runs on this machine only (no AWS); results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path[:0] = [str(Path(__file__).resolve().parent)]
from frontdoor_bench import BENCH_MODELS, ROOT, import_env  # noqa: E402 - also puts lambdas/ on sys.path
from dynamodb_stub import key_table  # noqa: E402
from stream_bench import MODELS as STREAM_MODELS, timed_post  # noqa: E402

MODEL = "falcon-7b-instruct"
PROMPT = "Write one sentence about the sea."
BEFORE = "bf49b6d"  # the last commit before issue 20's routes
TIERS = {"standard": {"models": [MODEL], "monthly_token_budget": 1_000_000}}
KEYS_TABLE = "bench-tenant-keys"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:bench/api/POST/v1/chat/completions"
COLD = """
import json, os, sys, time
w, c = time.perf_counter(), time.process_time()
{setup}
mid = ((time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000)
{call}
print("RESULT", *mid, (time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000)
"""
FIRST_REQUEST = dict(
    setup="from local.gateway import to_event\nfrom local.lambda_runtime import LocalContext\n"
          "w, c = time.perf_counter(), time.process_time()\nfrom frontdoor.handler import lambda_handler",
    call="r = lambda_handler(to_event('GET', os.environ['BENCH_PATH'], [], b''), LocalContext())\n"
         "assert r['statusCode'] == 200, r")
EAGER = {**FIRST_REQUEST, "call": "import frontdoor.api\nfrontdoor.api.mount(tuple(frontdoor.api.ROUTES))\n"
         + FIRST_REQUEST["call"]}
# The floor: the third-party and standard-library modules the first request has loaded
# (recorded from one run, ``OURS`` left out) imported in that order, and the Tracer built.
OURS = ("frontdoor", "inference", "summarizer", "tenants", "local", "__main__")
LOADED = FIRST_REQUEST["call"] + f"\nprint('MODULES', json.dumps([m for m in sys.modules if m.split('.')[0] not in {OURS!r}]))"
FLOOR = dict(setup="import importlib", call=(
    "for m in json.loads(os.environ['BENCH_MODULES']):\n    try: importlib.import_module(m)\n    except Exception: pass\n"
    "from aws_lambda_powertools import Tracer\nTracer(auto_patch=False)"))
AUTHORIZER = dict(setup="from tenants.authorizer import handler",
                  call="assert handler(json.loads(os.environ['BENCH_EVENT']), None)['principalId'] == 'bench'")
BARE_GET_ITEM = dict(setup="import boto3\nfrom tenants.aws import tables", call=(
    "t = tables()\nfrom tenants.keys import hash_key\n"
    "t.client.get_item(TableName=t.keys, Key={'key_hash': {'S': hash_key(os.environ['BENCH_KEY'])}}, ConsistentRead=True)"))


def pct(values: list[float], q: int) -> float:
    return statistics.median(values) if q == 50 else statistics.quantiles(values, n=100)[q - 1]


def fresh(snippet: dict[str, str], env: dict[str, str]) -> tuple[float, ...]:
    """A fresh interpreter's (setup wall, setup CPU, total wall, total CPU), ms."""
    out = subprocess.run([sys.executable, "-c", COLD.format(**snippet)], env=env, check=True, capture_output=True,
                         text=True).stdout
    return tuple(map(float, [l for l in out.splitlines() if l.startswith("RESULT")][-1].split()[1:]))


def medians(samples: list[tuple[float, ...]]) -> tuple[float, ...]:
    return tuple(statistics.median(s[i] for s in samples) for i in range(len(samples[0])))


class ModelTimer:
    """Times every ``invoke`` of a ``SageMakerRuntime`` (the model call: boto3 + HTTP)."""

    def __init__(self, invoker) -> None:
        self.ms = 0.0
        original = invoker.invoke

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.ms += (time.perf_counter() - started) * 1000

        invoker.invoke = timed


def handler_overhead(calls: int, tokens: int = 16) -> dict[str, dict[str, float]]:
    """(a): per variant, overhead (wall - model) p50/p90 and wall p50, ms."""
    from local.gateway import to_event
    from local.lambda_runtime import LocalContext
    from local.stack import start_stack

    stack = start_stack(BENCH_MODELS, port=0, feedback=False, jobs=False)
    try:
        from frontdoor import context
        from frontdoor.config import runtime
        from frontdoor.handler import lambda_handler

        timer, stream_app = ModelTimer(runtime().invoker), stack.stream_server.app
        native = json.dumps({"model": MODEL, "inputs": PROMPT, "parameters": {"max_new_tokens": tokens}}).encode()
        chat = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": PROMPT}],
                           "max_tokens": tokens, "stream": False}).encode()
        headers = [("Content-Type", "application/json")]

        def via_handler(path: str, body: bytes) -> float | None:
            response = lambda_handler(to_event("POST", path, headers, body), LocalContext())
            assert response["statusCode"] == 200, response
            timing = response["multiValueHeaders"].get("Server-Timing")
            return float(timing[0].split("dur=")[1]) if timing else None

        def via_stream_app() -> None:
            token = context.request_id.set("bench")
            try:
                answer = stream_app.handle("POST", "/v1/chat/completions", {"content-type": "application/json"}, chat)
                assert answer.status == 200 and json.loads(answer.body)["choices"], answer.body
            finally:
                context.request_id.reset(token)

        variants = {"native": lambda: via_handler("/v1/generate", native),
                    "chat_resolver": lambda: via_handler("/v1/chat/completions", chat),
                    "chat_stream_app": via_stream_app}
        return _interleave(variants, timer, calls)
    finally:
        stack.stop()


def _interleave(variants: dict, timer: ModelTimer, calls: int) -> dict[str, dict[str, float]]:
    samples: dict[str, list[tuple[float, float, float | None]]] = {name: [] for name in variants}
    names = list(variants)
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # EMF lines are printed, not shown
        for i in range(calls + 20):
            for name in names[i % 3:] + names[:i % 3]:  # rotate the order: no variant always goes first
                timer.ms = 0.0
                started = time.perf_counter()
                server_timing = variants[name]()
                wall = (time.perf_counter() - started) * 1000
                if i >= 20:  # warm-up: lazy imports, clients, pydantic validators
                    samples[name].append((wall, timer.ms, server_timing))
    out = {}
    for name, rows in samples.items():
        overhead = [w - m for w, m, _ in rows]
        timings = [m - s for _, m, s in rows if s is not None]
        out[name] = {"p50": pct(overhead, 50), "p90": pct(overhead, 90), "wall": pct([w for w, _, _ in rows], 50),
                     "model": pct([m for _, m, _ in rows], 50),
                     "timer_minus_server_timing": pct(timings, 50) if timings else float("nan")}
    return out


def authorizer_latency(runs: int, calls: int, kind: str) -> dict[str, float]:
    """(b): cold (fresh interpreter) and warm (in process) authorizer and bare GetItem, ms."""
    from tenants.keys import ACTIVE, KeyRecord, display_prefix, hash_key, new_key, new_key_id

    key = new_key()
    record = KeyRecord(hash_key(key), new_key_id(), "bench", "standard", ACTIVE, "2026-01-01T00:00:00Z",
                       "bench-api-key", "bench-api-key-value", display_prefix(key))
    event = {"type": "REQUEST", "methodArn": METHOD_ARN, "headers": {"Authorization": f"Bearer {key}"}}
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_DYNAMODB",
             "TENANT_KEYS_TABLE", "TENANT_TIERS_JSON")
    saved = {k: os.environ.get(k) for k in names}
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1", "TENANT_KEYS_TABLE": KEYS_TABLE,
                       "TENANT_TIERS_JSON": json.dumps(TIERS)})
    try:
        with key_table(kind, KEYS_TABLE, record.to_item()) as url:
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = url
            env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
                   "PYTHONPATH": str(ROOT / "lambdas"), "BENCH_EVENT": json.dumps(event), "BENCH_KEY": key}
            fresh(AUTHORIZER, env)  # write the bytecode
            pairs = [(fresh(AUTHORIZER, env), fresh(BARE_GET_ITEM, env)) for _ in range(runs)]  # interleaved
            out = {"cold": medians([p[0] for p in pairs]), "bare_cold": medians([p[1] for p in pairs])}
            out.update(_warm_authorizer(event, key, calls))
            return out
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def _warm_authorizer(event: dict, key: str, calls: int) -> dict[str, float]:
    from tenants import authorizer, aws
    from tenants.keys import hash_key

    aws.reset()
    authorizer.tiers.cache_clear()
    t = aws.tables()
    wanted = {"key_hash": {"S": hash_key(key)}}
    handler_ms, bare_ms = [], []
    for i in range(calls + 10):
        started = time.perf_counter()
        authorizer.handler(event, None)
        middle = time.perf_counter()
        t.client.get_item(TableName=t.keys, Key=wanted, ConsistentRead=True)
        if i >= 10:
            handler_ms.append((middle - started) * 1000)
            bare_ms.append((time.perf_counter() - middle) * 1000)
    aws.reset()
    return {"warm_p50": pct(handler_ms, 50), "warm_p90": pct(handler_ms, 90), "bare_warm_p50": pct(bare_ms, 50),
            "bare_warm_p90": pct(bare_ms, 90)}


def timed_stream(url: str, path: str, body: dict, token: re.Pattern[bytes]) -> tuple[float, float]:
    """(ms to the first body byte, ms to the first byte of a read holding a token) of one POST."""
    target = urlsplit(url)
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
    started = time.perf_counter()
    connection.request("POST", path, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200, response.read()[:300]
    seen, first, first_token = b"", None, None
    while chunk := response.read1(65536):
        now = (time.perf_counter() - started) * 1000
        first = now if first is None else first
        seen += chunk
        if first_token is None and token.search(seen):
            first_token = now
    connection.close()
    return first, first_token


def stream_first_byte(runs: int, tokens: int, first_token_ms: float, per_token_ms: float) -> dict[str, tuple]:
    """(c): per route, medians of (first byte ms, first token ms) over ``runs`` interleaved runs."""
    from local.stack import start_stack

    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    stack = start_stack(STREAM_MODELS, port=0, first_token_ms=first_token_ms, per_token_ms=per_token_ms,
                        feedback=False, jobs=False)
    stack.restore_env()
    routes = {
        "native": ("/v1/generate/stream", {"model": MODEL, "inputs": PROMPT, "parameters": {"max_new_tokens": tokens}},
                   re.compile(rb"event: token")),
        "chat": ("/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}],
                                          "max_tokens": tokens, "stream": True},
                 re.compile(rb'"delta":\{"content":"[^"]')),
    }
    try:
        for path, body, _ in routes.values():  # warm: imports, clients, connections (a warm Lambda)
            timed_post(stack.url, path, body)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in routes}
        for i in range(runs):
            for name in (list(routes) if i % 2 == 0 else list(reversed(routes))):
                path, body, token = routes[name]
                samples[name].append(timed_stream(stack.url, path, body, token))
    finally:
        stack.stop()
    return {name: medians(rows) for name, rows in samples.items()}


def before_tree(rev: str, into: Path) -> Path | None:
    """``lambdas/`` as of ``rev`` (read with ``git archive``), or None if git cannot."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "lambdas"], capture_output=True)
    if not archive.returncode:
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return None if archive.returncode else into / "lambdas"


def cold_start(runs: int, before: Path | None) -> dict[str, tuple]:
    """(d): medians of (import wall, import CPU, total wall, total CPU), fresh interpreters, Lambda env."""
    def env(lambdas: Path, path: str = "/v1/templates") -> dict[str, str]:
        return {**import_env("lambda"), "PYTHONPATH": os.pathsep.join([str(lambdas), str(ROOT)]),
                "POWERTOOLS_METRICS_DISABLED": "true", "BENCH_PATH": path}

    record = subprocess.run([sys.executable, "-c", COLD.format(setup=FIRST_REQUEST["setup"], call=LOADED)],
                            env=env(ROOT / "lambdas"), check=True, capture_output=True, text=True).stdout
    modules = [line[8:] for line in record.splitlines() if line.startswith("MODULES ")][-1]
    cases = {"now": (FIRST_REQUEST, env(ROOT / "lambdas")), "eager": (EAGER, env(ROOT / "lambdas")),
             "now_model_object": (FIRST_REQUEST, env(ROOT / "lambdas", f"/v1/models/{MODEL}")),
             "floor": (FLOOR, {**env(ROOT / "lambdas"), "BENCH_MODULES": modules})}
    if before is not None:
        cases["before"] = (FIRST_REQUEST, env(before))
    for snippet, case_env in cases.values():
        fresh(snippet, case_env)  # write the bytecode
    samples: dict[str, list] = {name: [] for name in cases}
    for _ in range(runs):  # interleaved: load on this shared machine hits every case alike
        for name, (snippet, case_env) in cases.items():
            samples[name].append(fresh(snippet, case_env))
    return {name: medians(rows) for name, rows in samples.items()}


def machine() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpu = next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name")), "")
    return f"{platform.machine()} {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def overhead_rows(o: dict[str, dict[str, float]]) -> list[tuple]:
    native = o["native"]
    rows = [("(a) overhead p50 / p90, native POST /v1/generate (handler)",
             f"{native['p50']:.2f} / {native['p90']:.2f} ms", "", None)]
    for name, label in (("chat_resolver", "chat/completions, resolver twin (handler)"),
                        ("chat_stream_app", "chat/completions, StreamApp.handle")):
        v, extra = o[name], o[name]["p50"] - native["p50"]
        rows.append((f"(a) overhead p50 / p90, {label}", f"{v['p50']:.2f} / {v['p90']:.2f} ms ({extra:+.2f})",
                     "+<= 1 ms p50", extra <= 1.0))
    return rows + [("    model call p50 (0 ms emulator) native / resolver / StreamApp",
                    " / ".join(f"{o[n]['model']:.2f}" for n in o) + " ms", "", None),
                   ("    native: timed model call - its Server-Timing (p50)",
                    f"{native['timer_minus_server_timing']:.2f} ms", "", None)]


def authorizer_rows(a: dict, kind: str) -> list[tuple]:
    return [
        (f"(b) authorizer cold ({kind} DynamoDB): import / import + first call, wall (CPU)",
         f"{a['cold'][0]:.0f} / {a['cold'][2]:.0f} ({a['cold'][3]:.0f}) ms", "stated", None),
        ("    peer: import boto3 / + client + GetItem, wall (CPU)",
         f"{a['bare_cold'][0]:.0f} / {a['bare_cold'][2]:.0f} ({a['bare_cold'][3]:.0f}) ms", "", None),
        ("(b) authorizer warm p50 / p90 (its GetItem included)",
         f"{a['warm_p50']:.2f} / {a['warm_p90']:.2f} ms", "stated", None),
        ("    peer: bare GetItem p50 / p90; authorizer's own p50",
         f"{a['bare_warm_p50']:.2f} / {a['bare_warm_p90']:.2f}; {a['warm_p50'] - a['bare_warm_p50']:.2f} ms", "",
         None),
    ]


def stream_rows(s: dict[str, tuple], margin: float = 10.0) -> list[tuple]:
    (nf, nt), (cf, ct) = s["native"], s["chat"]
    return [("(c) first byte: native /v1/generate/stream | chat (stream)",
             f"{nf:.1f} | {cf:.1f} ms ({cf - nf:+.1f})", "+<= 10 ms", cf - nf <= margin),
            ("    first byte holding a token: native | chat",
             f"{nt:.1f} | {ct:.1f} ms ({ct - nt:+.1f})", "+<= 10 ms", ct - nt <= margin)]


COLD_LABELS = {"now": "now", "eager": "now, every route mounted by the first request (before lazy mounting)",
               "now_model_object": f"now, first request GET /v1/models/{MODEL} instead",
               "before": "before issue 20 (--before)", "floor": "floor: the libraries that first GET loads + Tracer()"}


def cold_rows(c: dict[str, tuple]) -> list[tuple]:
    now, before = c["now"], c.get("before")
    rows = [("(d) cold start: import + first GET /v1/templates, wall (CPU)",
             f"{now[0]:.0f} + {now[2] - now[0]:.0f} = {now[2]:.0f} ({now[3]:.0f}) ms", "<= 150 ms", now[2] <= 150)]
    for name, label in COLD_LABELS.items():
        if (v := c.get(name)) is not None:
            ratio = f"; {v[2] / before[2]:.2f}x ({v[3] / before[3]:.2f}x)" if before else ""
            rows.append((f"    {label}, wall (CPU); / before", f"{v[2]:.0f} ({v[3]:.0f}) ms{ratio}", "", None))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="in-process calls per variant, (a) and (b) warm")
    parser.add_argument("--runs", type=int, default=9, help="fresh interpreters per case, (b) cold and (d)")
    parser.add_argument("--stream-runs", type=int, default=15)
    parser.add_argument("--tokens", type=int, default=20, help="max tokens of each streamed answer, (c)")
    parser.add_argument("--first-token-ms", type=float, default=300.0)
    parser.add_argument("--per-token-ms", type=float, default=30.0)
    parser.add_argument("--before", default=BEFORE, help="the revision to compare the cold start with")
    parser.add_argument("--only", default="abcd", help="the parts to run, e.g. 'ad'")
    parser.add_argument("--dynamodb", choices=("stub", "moto"), default="stub", help="the keys table behind (b)")
    args = parser.parse_args(argv)

    start_load, rows = os.getloadavg()[0], []
    if "a" in args.only:
        rows += overhead_rows(handler_overhead(args.calls))
    if "b" in args.only:
        rows += authorizer_rows(authorizer_latency(args.runs, args.calls, args.dynamodb), args.dynamodb)
    if "c" in args.only:
        rows += stream_rows(stream_first_byte(args.stream_runs, args.tokens, args.first_token_ms, args.per_token_ms))
    if "d" in args.only:
        with tempfile.TemporaryDirectory() as tmp:
            rows += cold_rows(cold_start(args.runs, before_tree(args.before, Path(tmp))))
    print(f"openai bench  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {machine()}  "
          f"load average {start_load:.1f} -> {os.getloadavg()[0]:.1f} (shared machine)")
    print(f"(a) {args.calls} calls per variant, interleaved; (b) {args.runs} fresh interpreters, {args.calls} warm "
          f"calls; (c) {args.stream_runs} runs, first token {args.first_token_ms:.0f} ms, "
          f"{args.per_token_ms:.0f} ms/token, {args.tokens} tokens; (d) {args.runs} runs per case; medians")
    width = max(len(r[0]) for r in rows)
    print(f"{'metric'.ljust(width)}  {'value':>34}  {'bar':>12}  met")
    for name, value, bar, ok in rows:
        print(f"{name.ljust(width)}  {value:>34}  {bar:>12}  {'' if ok is None else ('yes' if ok else 'NO')}")
    return 0 if all(ok is not False for *_, ok in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
