"""The cold-start import stays lean: heavy modules load on first use.

Not a timing test (those live in bench/frontdoor_bench.py): it pins *what* the
handler imports, which is what keeps the cold import under its 150 ms budget.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LAMBDAS = Path(__file__).resolve().parents[3] / "lambdas"
DEFERRED = ["boto3", "botocore.session", "summarizer.mapreduce", "summarizer.jobs", "summarizer.settings"]


def test_handler_import_defers_boto3_and_the_summarization_machinery():
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
