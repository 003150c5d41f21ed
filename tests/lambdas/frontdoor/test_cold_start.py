"""The cold-start import stays lean: heavy modules load on first use.

Not a timing test (those live in bench/frontdoor_bench.py): it pins *what* the
handler imports, which is what keeps the cold import under its 100 ms budget.
The bench lists the same modules as deferred (``bench/frontdoor_bench.DEFERRED``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LAMBDAS = Path(__file__).resolve().parents[3] / "lambdas"
sys.path.insert(0, str(LAMBDAS.parent))
from bench.frontdoor_bench import DEFERRED  # noqa: E402


def test_handler_import_defers_the_resolver_xray_boto3_and_the_summarization_machinery():
    assert {"pydantic", "aws_xray_sdk", "frontdoor.api", "boto3", "summarizer.mapreduce"} <= set(DEFERRED)
    code = (
        "import sys, json; import frontdoor.handler; "
        f"print(json.dumps([m for m in {DEFERRED!r} if m in sys.modules]))"
    )
    env = {
        "PYTHONPATH": str(LAMBDAS), "LAMBDA_TASK_ROOT": str(LAMBDAS), "AWS_LAMBDA_FUNCTION_NAME": "cold-start",
        "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "frontdoor", "MODELS_JSON": "[]",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


# Mounted by the first request whose path they serve (frontdoor.api.resolve), not by the first
# request at all: a cold start answering GET /v1/templates builds neither the OpenAI routes and
# their models (issue 20) nor the generation and summarization routes (~20% of that cold start
# on the bench machine, bench/openai_bench.py).
NOT_FOR_TEMPLATES = ["frontdoor.routes.openai_text", "frontdoor.routes.openai_media", "frontdoor.models.chat",
                     "frontdoor.routes.generation", "frontdoor.routes.generation_stream", "frontdoor.routes.summarize",
                     "frontdoor.routes.feedback", "summarizer.mapreduce"]


def test_a_first_get_templates_mounts_only_the_catalog_routes():
    code = (
        "import sys, json\n"
        "from local.gateway import to_event\n"
        "from local.lambda_runtime import LocalContext\n"
        "from frontdoor.handler import lambda_handler\n"
        "r = lambda_handler(to_event('GET', '/v1/templates', [], b''), LocalContext())\n"
        "assert r['statusCode'] == 200, r\n"
        f"print(json.dumps([m for m in {NOT_FOR_TEMPLATES!r} if m in sys.modules]))\n"
    )
    env = {
        "PYTHONPATH": f"{LAMBDAS}:{LAMBDAS.parent}", "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "frontdoor", "POWERTOOLS_METRICS_DISABLED": "true", "MODELS_JSON": "[]",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
