"""Schemathesis with every check (``--checks all``) over the served /v1/openapi.json:
no failure of any kind, under three seeds.

All four phases (examples, coverage, fuzzing, stateful), valid and invalid data,
undeclared methods, auth probes: ``local.openapi_fuzz`` runs the schemathesis CLI
against a front of the local stack whose gateway authorizes as the deployed API
does (SigV4, ``api.auth: iam``), with every request signed. Each seed is its own
test (xdist spreads them over the workers, each with its own stack), with at least
MIN_CASES cases over every operation of the document. The coverage phase (~2,000
cases) hardly depends on the seed, so only seed 0 runs all four phases; the other
seeds spend their cases on the seed-driven ones (fuzzing, stateful).
``bench/openapi_fuzz_bench.py`` runs larger counts (docs/benchmarks.md).
"""

from __future__ import annotations

import json

import pytest

from frontdoor.routes import meta
from local import openapi_fuzz
from stacks.contract import openapi

MIN_CASES = 1000
ALL_PHASES = None
# (seed, phases, max examples per operation and phase)
RUNS = ((0, ALL_PHASES, 20), (1, "fuzzing,stateful", 50), (2, "fuzzing,stateful", 50))
# Every operation of the committed document (the served one is the same: first test below).
OPERATIONS = {f"{op.method} {op.path}" for op in openapi.operations(openapi.load())
              if (op.path, op.method) not in openapi.UNDOCUMENTED_ROUTES}


@pytest.fixture(scope="module")
def gateway(stack):
    """The local stack behind a gateway that requires SigV4, as the deployed API does."""
    return stack.front(auth="iam")


def test_the_gateway_serves_the_committed_document_to_signed_callers_only(gateway):
    assert json.loads(openapi_fuzz.fetch_document(gateway.url)) == json.loads(meta.DOCUMENT.read_text("utf-8"))
    with pytest.raises(Exception, match="403"):
        openapi_fuzz.fetch_document(gateway.url, sign=False)


@pytest.mark.parametrize(("seed", "phases", "max_examples"), RUNS, ids=[f"seed{run[0]}" for run in RUNS])
def test_schemathesis_with_every_check_finds_nothing(stack, gateway, tmp_path, seed, phases, max_examples):
    result = openapi_fuzz.run(gateway.url, tmp_path, max_examples=max_examples, seed=seed, workers=2, phases=phases)
    print(openapi_fuzz.table(result))
    assert result.failures == [] and result.failed_checks == {}, openapi_fuzz.table(result) + result.output[-6000:]
    assert result.exit_code == 0, result.output[-6000:]
    # Every operation, with valid and invalid data (GETs without parameters get invalid data from
    # the coverage phase only); every check ran.
    assert set(result.operations) - {openapi_fuzz.STATEFUL} == OPERATIONS
    for name in OPERATIONS:
        assert result.operations[name]["positive"] > 0, name
        assert phases is not ALL_PHASES or result.operations[name]["negative"] > 0, name
    assert result.cases >= MIN_CASES
    assert {"not_a_server_error", "status_code_conformance", "response_schema_conformance",
            "positive_data_acceptance", "negative_data_rejection", "unsupported_method",
            "ignored_auth"} <= set(result.checks)
    # Requests reached the function (2xx, its 400/404/422), and the gateway refused some itself (403).
    assert {200, 201, 400, 403, 404} <= set(result.statuses)
    assert result.missing_request_id == 0, "every response carries x-request-id"
    # Jobs the fuzz queued finish here, not inside another test.
    assert stack.worker is None or stack.worker.wait_idle(120)
