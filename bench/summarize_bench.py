"""Summarization benchmark: splitting, end-to-end map-reduce, calls and tokens.

Run by hand (no network, no AWS):

    . .venv/bin/activate
    python -m venv /tmp/bench-venv && /tmp/bench-venv/bin/pip install -r bench/requirements.txt
    /tmp/bench-venv/bin/python bench/summarize_bench.py                 # ~8 min, 100 pages
    /tmp/bench-venv/bin/python bench/summarize_bench.py --pages 10 --skip-sequential

Part 1 needs only the splitters; parts 2 and 3 start a loopback
SageMaker-runtime endpoint (below) with TGI validation and a fixed latency
model, and every approach drives it with boto3, exactly as the Lambda does.

Budgets: ours is TGI's limit, min(MAX_INPUT_LENGTH, MAX_TOTAL_TOKENS -
max_new_tokens) minus the prompt. LangChain runs at that same budget (it has no
recalibration, so one 422 ends its run), at the largest budget whose map
prompts all fit this endpoint (found by trial on this document: LangChain's
best case), and at issue 5's rule (MAX_INPUT_LENGTH - max_new_tokens - prompt),
the budget of the earlier runs.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "lambdas")]

from bench.documents import make_document  # noqa: E402 (after the path set-up a script run needs)

FIRST_TOKEN_S = 0.050
PER_TOKEN_S = 0.020
OUTPUT_TOKENS = 64  # what a 7B model writes for a chunk summary, roughly


def emulator_tokens(text: str) -> int:
    """The endpoint's own count (not the estimator's): ~4.4 chars per token."""
    return math.ceil(len(text) / 4.4)


class _Handler(BaseHTTPRequestHandler):
    server_version = "bench-emulator"

    def log_message(self, *args):  # keep the table readable
        pass

    def _reply(self, status: int, body: dict | list, error_type: str | None = None):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt, params = payload["inputs"], payload.get("parameters", {})
        n_in, n_new = emulator_tokens(prompt), int(params.get("max_new_tokens", 20))
        stats = self.server.stats
        with stats["lock"]:
            stats["calls"] += 1
        if n_in > 1024 or n_in + n_new > 2048:
            msg = (f"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048. "
                   f"Given: {n_in} `inputs` tokens and {n_new} `max_new_tokens`") if n_in <= 1024 else (
                f"Input validation error: `inputs` must have less than 1024 tokens. Given: {n_in}")
            original = json.dumps({"error": msg, "error_type": "validation"})
            with stats["lock"]:
                stats["rejected"] += 1
            return self._reply(424, {"ErrorCode": "CLIENT_ERROR_FROM_MODEL", "OriginalStatusCode": 422,
                                     "OriginalMessage": original, "LogStreamArn": "arn:emulator",
                                     "Message": f'Received client error (422) from primary with message "{original}". See log.'},
                               "ModelError")
        n_out = min(n_new, OUTPUT_TOKENS)
        time.sleep(FIRST_TOKEN_S + PER_TOKEN_S * n_out)
        words = re.findall(r"\S+", prompt)
        text = " ".join(words[len(words) // 3: len(words) // 3 + int(n_out * 0.75)])
        with stats["lock"]:
            stats["input_tokens"] += n_in
            stats["output_tokens"] += n_out
        self._reply(200, [{"generated_text": text, "details": {"generated_tokens": n_out, "finish_reason": "length"}}])


def start_emulator():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.stats = {"lock": threading.Lock()}
    reset_stats(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def reset_stats(server):
    server.stats.update(calls=0, rejected=0, input_tokens=0, output_tokens=0)


def runtime_client(url: str, concurrency: int):
    import boto3
    from botocore.config import Config

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    return boto3.client("sagemaker-runtime", region_name="us-east-1", endpoint_url=url,
                        config=Config(retries={"total_max_attempts": 1}, read_timeout=70,
                                      max_pool_connections=max(10, concurrency + 2)))


# ---------------------------------------------------------------------------
# Part 1: splitting.

SPLIT_REPEATS = 5  # a splitter's time is its best of 5 runs: the 2 cores are shared


def bench_split(doc: str, budget: int):
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    from semantic_text_splitter import TextSplitter

    from summarizer.chunking import split_text
    from inference.tokens import TokenEstimator

    est = TokenEstimator()
    rows = []

    def run(name, fn):
        elapsed = math.inf
        for _ in range(SPLIT_REPEATS):
            started = time.perf_counter()
            chunks = fn()
            elapsed = min(elapsed, time.perf_counter() - started)
        sizes = [est.count(c) for c in chunks]
        rows.append((name, len(chunks), elapsed, len(doc) / 1e6 / elapsed, statistics.mean(sizes) / budget,
                     sum(s > budget for s in sizes), max(sizes)))
        return chunks

    run("summarizer.split_text", lambda: [c.text for c in split_text(doc, budget, est)])
    run("langchain RecursiveCharacterTextSplitter", lambda: RecursiveCharacterTextSplitter(
        chunk_size=budget, chunk_overlap=0, length_function=est.count).split_text(doc))
    run("semantic-text-splitter TextSplitter", lambda: TextSplitter.from_callback(est.count, budget).chunks(doc))
    return rows


# ---------------------------------------------------------------------------
# Part 2 and 3: end to end.

def run_ours(doc, url, concurrency):
    from summarizer.mapreduce import Summarizer
    from summarizer.run_config import SummarizeConfig
    from inference.runtime import SageMakerRuntime
    from summarizer.model import make_generate

    runtime = SageMakerRuntime(runtime_client(url, concurrency), max_attempts=1)
    gen = make_generate("bench-falcon", "falcon", runtime)
    summarizer = Summarizer(gen, "falcon", config=SummarizeConfig(max_concurrency=concurrency))
    return summarizer.summarize(doc).stats


def run_sequential(doc, url):
    """One chunk after another, then the same collapse/reduce: the naive loop."""
    return run_ours(doc, url, 1)


def run_langchain(doc, url, budget, parallel: int):
    from typing import Any

    from langchain_classic.chains.summarize import load_summarize_chain
    from langchain_core.documents import Document
    from langchain_core.language_models.llms import LLM
    from langchain_core.outputs import Generation, LLMResult

    from inference.tokens import TokenEstimator

    est = TokenEstimator()
    client = runtime_client(url, max(parallel, 1))

    class SageMakerTGI(LLM):
        """Minimal LangChain LLM over boto3 sagemaker-runtime (the emulator)."""

        max_new_tokens: int = 200
        workers: int = 1

        @property
        def _llm_type(self) -> str:
            return "sagemaker-tgi"

        def get_num_tokens(self, text: str) -> int:
            return est.count(text)  # LangChain's default needs a GPT-2 tokenizer download

        def _call(self, prompt: str, stop=None, run_manager=None, **kwargs: Any) -> str:
            body = json.dumps({"inputs": prompt, "parameters": {"max_new_tokens": self.max_new_tokens,
                                                                "return_full_text": False}})
            raw = client.invoke_endpoint(EndpointName="bench-falcon", ContentType="application/json", Body=body)
            return json.loads(raw["Body"].read())[0]["generated_text"]

        def _generate(self, prompts, stop=None, run_manager=None, **kwargs):
            if self.workers <= 1:
                return super()._generate(prompts, stop, run_manager, **kwargs)
            with ThreadPoolExecutor(self.workers) as pool:
                texts = list(pool.map(lambda p: self._call(p, stop), prompts))
            return LLMResult(generations=[[Generation(text=t)] for t in texts])

    docs = [Document(page_content=c) for c in langchain_chunks(doc, budget)]
    chain = load_summarize_chain(SageMakerTGI(workers=parallel), chain_type="map_reduce", token_max=budget)
    chain.invoke({"input_documents": docs})
    return len(docs)


def langchain_chunks(doc: str, budget: int) -> list[str]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from inference.tokens import TokenEstimator

    est = TokenEstimator()
    return RecursiveCharacterTextSplitter(chunk_size=budget, chunk_overlap=0, length_function=est.count).split_text(doc)


def langchain_tuned_budget(doc: str, budget: int) -> int:
    """The largest budget (in steps of 4) whose LangChain map prompts all fit the endpoint's
    1024 tokens: what a LangChain user tuning by trial would end up with on this document.
    LangChain has no recalibration, so one 422 fails its whole run."""
    from langchain_classic.chains.summarize.map_reduce_prompt import PROMPT

    while budget > 0 and max(emulator_tokens(PROMPT.format(text=c)) for c in langchain_chunks(doc, budget)) > 1024:
        budget -= 4
    return budget


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--skip-sequential", action="store_true")
    args = parser.parse_args(argv)

    doc = make_document(pages=args.pages)
    budget, issue_budget = map_budgets()
    tuned = langchain_tuned_budget(doc, budget)
    print(f"# summarize_bench {date.today()} | {os.cpu_count()} cores {platform.machine()} | "
          f"Python {platform.python_version()} | {args.pages} pages, {len(doc.split())} words, "
          f"{len(doc) / 1e6:.2f} MB | map budget {budget} est. tokens (TGI's limit; issue 5's rule: "
          f"{issue_budget}; LangChain tuned: {tuned})\n")
    print_splitting(doc, (issue_budget, budget))

    server = start_emulator()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    # boto3 imports itself and loads the service model on its first client (~0.2 s): do it
    # here, so it is not in the wall time of whichever approach happens to run first.
    runtime_client(url, 1)
    print(f"\n## 2-3. End to end against the loopback endpoint "
          f"({FIRST_TOKEN_S * 1000:.0f} ms + {PER_TOKEN_S * 1000:.0f} ms/token, {OUTPUT_TOKENS} output tokens/call)\n")
    print("| approach | wall s | model calls | 422s | input tokens | output tokens | chunks |")
    print("|---|---|---|---|---|---|---|")
    results: dict[str, tuple[float, int, int]] = {}
    failed: set[str] = set()

    record = partial(record_approach, server, results, failed)
    c = args.concurrency
    record(f"summarizer, concurrency {c}, budget {budget}", lambda: run_ours(doc, url, c).chunks)
    record(f"LangChain map_reduce, LLM batch of {c} threads, same budget {budget}",
           lambda: run_langchain(doc, url, budget, c))
    record(f"LangChain map_reduce, LLM batch of {c} threads, budget tuned to this text {tuned}",
           lambda: run_langchain(doc, url, tuned, c))
    record(f"LangChain map_reduce, LLM batch of {c} threads, issue 5's budget {issue_budget}",
           lambda: run_langchain(doc, url, issue_budget, c))
    record(f"LangChain map_reduce, stock (sequential LLM), issue 5's budget {issue_budget}",
           lambda: run_langchain(doc, url, issue_budget, 1))
    if not args.skip_sequential:
        record("sequential loop (summarizer, concurrency 1)", lambda: run_sequential(doc, url).chunks)

    print_comparison(results, failed, results[f"summarizer, concurrency {c}, budget {budget}"])
    server.shutdown()
    return 0


def map_budgets() -> tuple[int, int]:
    """(ours, issue 5's) map budgets in estimated tokens for the falcon family."""
    from summarizer.mapreduce import Summarizer
    from summarizer.run_config import SummarizeConfig
    from summarizer.prompts import Stage, instruction

    # Ours by default: TGI's limit, min(MAX_INPUT_LENGTH, MAX_TOTAL_TOKENS - max_new_tokens) - prompt.
    budget = Summarizer(lambda p, k: "", "falcon").text_budget(instruction(Stage.MAP), 200)
    # Issue 5's rule, MAX_INPUT_LENGTH - max_new_tokens - prompt: the budget of the earlier runs.
    issue_budget = Summarizer(lambda p, k: "", "falcon", config=SummarizeConfig(reserve_output_in_input=True)).text_budget(
        instruction(Stage.MAP), 200)
    return budget, issue_budget


def print_splitting(doc: str, budgets: tuple[int, ...]) -> None:
    """Part 1's table: every splitter at each budget."""
    print("## 1. Splitting (same text, same token budget, same length function; best of "
          f"{SPLIT_REPEATS} runs)\n")
    print("| budget | splitter | chunks | time s | MB/s | mean fill | over budget | max est. tokens |")
    print("|---|---|---|---|---|---|---|---|")
    for b in budgets:
        for name, n, t, mbps, fill, over, biggest in bench_split(doc, b):
            print(f"| {b} | {name} | {n} | {t:.4f} | {mbps:.1f} | {fill:.1%} | {over} | {biggest} |")


def record_approach(server, results: dict, failed: set[str], name: str, fn) -> None:
    """Run one approach against the emulator and print its row: wall time, calls, tokens."""
    reset_stats(server)
    started = time.perf_counter()
    try:
        chunks = fn()
        status = ""
    except Exception as exc:  # a failed approach is a result too
        chunks, status = "-", f" (failed: {type(exc).__name__}: {str(exc)[:80]})"
        failed.add(name)
    wall = time.perf_counter() - started
    s = server.stats
    results[name] = (wall, s["calls"], s["input_tokens"])
    print(f"| {name}{status} | {wall:.1f} | {s['calls']} | {s['rejected']} | {s['input_tokens']} | "
          f"{s['output_tokens']} | {chunks} |", flush=True)


def print_comparison(results: dict[str, tuple[float, int, int]], failed: set[str], ours: tuple[float, int, int]) -> None:
    """Ours against every other approach that finished: wall time, input tokens, calls."""
    print("\n| ours against | its wall time / ours | our wall time / its | our input tokens / its | our calls / its |")
    print("|---|---|---|---|---|")
    for name, (wall, calls, tokens) in results.items():
        if name.startswith("summarizer,") or name in failed:
            continue
        print(f"| {name} | {wall / ours[0]:.2f}x | {ours[0] / wall:.2f}x | {ours[2] / max(1, tokens):.3f}x | "
              f"{ours[1] / max(1, calls):.2f}x |")


if __name__ == "__main__":
    sys.exit(main())
