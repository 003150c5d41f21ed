"""Schemathesis with every check (``--checks all``) over the served /v1/openapi.json:
no failure of any kind.

All four phases (examples, coverage, fuzzing, stateful), valid and invalid data,
undeclared methods, auth probes: ``local.openapi_fuzz`` runs the schemathesis CLI
against a front of the local stack whose gateway authorizes as the deployed API
does (SigV4, ``api.auth: iam``), with every request signed. Bounded (MAX_EXAMPLES
per operation) so the whole lambdas suite stays within its budget on two cores;
``bench/openapi_fuzz_bench.py`` runs the large count (docs/benchmarks.md).
"""

from __future__ import annotations

import json

import pytest

from frontdoor.routes import meta
from local import openapi_fuzz

MAX_EXAMPLES = 20
OPERATIONS = {
    "GET /v1/models", "GET /v1/templates", "POST /v1/templates/{name}", "POST /v1/generate", "POST /v1/images",
    "POST /v1/feedback", "POST /v1/summarize", "GET /v1/jobs/{job_id}", "POST /v1/uploads",
    "POST /v1/generate/batch", "POST /v1/templates/{name}/batch", "GET /v1/images/presets",
    "POST /v1/generate/stream", "POST /v1/templates/{name}/stream",
}


@pytest.fixture(scope="module")
def gateway(stack):
    """The local stack behind a gateway that requires SigV4, as the deployed API does."""
    return stack.front(auth="iam")


def test_the_gateway_serves_the_committed_document_to_signed_callers_only(gateway):
    assert json.loads(openapi_fuzz.fetch_document(gateway.url)) == json.loads(meta.DOCUMENT.read_text("utf-8"))
    with pytest.raises(Exception, match="403"):
        openapi_fuzz.fetch_document(gateway.url, sign=False)


def test_schemathesis_with_every_check_finds_nothing(stack, gateway, tmp_path):
    result = openapi_fuzz.run(gateway.url, tmp_path, max_examples=MAX_EXAMPLES, seed=0, workers=2)
    print(openapi_fuzz.table(result))
    assert result.failures == [] and result.failed_checks == {}, openapi_fuzz.table(result) + result.output[-6000:]
    assert result.exit_code == 0, result.output[-6000:]
    # Every operation, with valid and invalid data; every check ran.
    assert set(result.operations) - {openapi_fuzz.STATEFUL} == OPERATIONS
    for name in OPERATIONS:
        assert result.operations[name]["positive"] > 0 and result.operations[name]["negative"] > 0, name
    assert result.cases >= len(OPERATIONS) * MAX_EXAMPLES * 2
    assert {"not_a_server_error", "status_code_conformance", "response_schema_conformance",
            "positive_data_acceptance", "negative_data_rejection", "unsupported_method",
            "ignored_auth"} <= set(result.checks)
    # Requests reached the function (2xx, its 400/404/422), and the gateway refused some itself (403).
    assert {200, 201, 400, 403, 404} <= set(result.statuses)
    assert result.missing_request_id == 0, "every response carries x-request-id"
    # Jobs the fuzz queued finish here, not inside another test.
    assert stack.worker is None or stack.worker.wait_idle(120)
