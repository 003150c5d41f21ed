"""The committed OpenAPI document is what the routes and models generate, and it
is what the front door serves (API Gateway's request models are built from the
same file: tests/stacks/test_api_contract.py)."""

from __future__ import annotations

import json

from frontdoor import contract
from frontdoor.routes import meta


def test_the_committed_document_is_the_generated_one():
    committed = meta.DOCUMENT.read_text(encoding="utf-8")
    assert committed == contract.render(contract.generate()), (
        "lambdas/frontdoor/openapi.json is stale: run `python -m frontdoor.contract --write` in lambdas/")


def test_the_served_document_is_the_committed_file(api):
    import urllib.request

    with urllib.request.urlopen(f"{api.base}/v1/openapi.json") as response:
        assert json.loads(response.read()) == json.loads(meta.DOCUMENT.read_text(encoding="utf-8"))


def test_the_check_mode_fails_on_a_stale_document(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(contract, "DOCUMENT", stale)
    assert contract.main([]) == 1
    assert "stale" in capsys.readouterr().err
    assert contract.main(["--write"]) == 0 and contract.main([]) == 0


# Models that restate a fact of the layers below (they cannot be derived from it without
# changing the document) are pinned to it here.


def test_the_generation_parameters_are_the_names_inference_defines():
    from frontdoor.models.generation import TextParameters
    from inference.params import TEXT_PARAMETERS

    assert tuple(TextParameters.model_fields) == TEXT_PARAMETERS


def test_the_summary_stats_are_the_summarizers_counters():
    from dataclasses import fields

    from frontdoor.models.summarize import Stats
    from summarizer.stats import SummaryStats

    assert tuple(Stats.model_fields) == tuple(f.name for f in fields(SummaryStats))


def test_a_job_status_is_one_the_job_store_writes():
    from typing import get_args

    from frontdoor.models.summarize import JobStatus
    from summarizer import jobs

    assert get_args(JobStatus.model_fields["status"].annotation) == (jobs.QUEUED, jobs.RUNNING, jobs.SUCCEEDED,
                                                                      jobs.FAILED)
