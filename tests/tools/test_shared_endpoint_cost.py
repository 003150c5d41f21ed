"""The synth summary and the review report of a shared endpoint (issue 11): cost at min and
max scale, each model's share by GPUs, and the comparison with classic endpoints."""

from __future__ import annotations

import pytest

from tests.synth import CONFIGS, REPO, synth
from tools.report import build, render, short_summary
from tools.report.assembly import Assembly
from tools.report.diagram import derive
from tools.summary import render as summary

SHARED = CONFIGS["shared-endpoint"]


@pytest.fixture(scope="module")
def example():
    return synth(SHARED)


@pytest.fixture(scope="module")
def report(example) -> dict:
    return build(example.outdir, str(REPO / SHARED))


def test_report_reads_the_instance_range_from_managed_instance_scaling(report):
    # Given ml.g5.12xlarge at $7.09/h, managed instance scaling 0..1
    (endpoint,) = report["endpoints"]
    assert endpoint["shared"] and endpoint["name"] == "text" and endpoint["instance_type"] == "ml.g5.12xlarge"
    assert endpoint["count"] == {"initial": 1, "min": 0, "max": 1}
    assert endpoint["cost"]["min"] == {"usd_per_hour": 0.0, "usd_per_month": 0.0}
    assert endpoint["cost"]["max"] == {"usd_per_hour": 7.09, "usd_per_month": 5175.7}
    assert endpoint["network_isolation"] is True
    assert report["endpoint_totals"]["min"]["usd_per_hour"] == 0.0
    assert not report["warnings"]


def test_report_lists_each_model_with_its_share_and_classic_price(report):
    (endpoint,) = report["endpoints"]
    names = [c["name"] for c in endpoint["components"]]
    assert names == ["falcon-7b-instruct", "falcon-7b"]
    for c in endpoint["components"]:
        assert (c["accelerators"], c["copies"]) == (1, {"min": 0, "max": 2})
        assert c["gpu"]["fits"] and c["gpu"]["copy_gib"] == 24 and c["gpu"]["jumpstart_instance"] == "ml.g5.2xlarge"
        # 2 copies x 1 GPU of the instance's 4 at max: half of $7.09/h.
        assert c["share_usd_per_hour"] == {"min": 0.0, "max": 3.545}
        assert c["classic"] == {"instance_type": "ml.g5.2xlarge", "usd_per_hour": 1.515}
    assert endpoint["classic_comparison"] == {
        "usd_per_hour": 3.03, "usd_per_month": 2211.9, "saving_at_min_usd_per_month": 2211.9,
        "saving_at_max_usd_per_month": -2963.8, "break_even_fraction_at_max": 0.4274,
    }


def test_markdown_has_the_shared_endpoint_section(report):
    markdown = render(report, picture=None)
    assert "| text | `huggingface-llm-falcon-7b-instruct-bf16@4.6.16, huggingface-llm-falcon-7b-bf16@4.1.23` " \
           "| ml.g5.12xlarge | 0..1 | $0.00 | $0 | $7.09 | $5,176 |" in markdown
    assert "## Shared endpoints (inference components)" in markdown
    assert "This endpoint saves $2,212/month at min scale and costs $2,964/month more at max; it is cheaper " \
           "while at max scale less than 43% of the hours." in markdown
    assert "GPU-memory fit:" not in markdown  # no classic endpoint in this config


def test_synth_summary_shows_cost_shares_and_the_saving(example):
    text = summary(example.outdir, str(REPO / SHARED))
    assert "Shared endpoints (inference components):" in text and "Endpoints:" not in text
    assert "  text: ml.g5.12xlarge x 0..1 (managed instance scaling, to zero); 4 x A10G 24 GiB, 192 GiB host memory" in text
    assert "    cost           $0.00/h, $0/month at min (scaled to zero); $7.09/h, $5,176/month at max" in text
    assert ("    share at max   falcon-7b-instruct $3.55/h (2 of 4 GPUs), falcon-7b $3.55/h (2 of 4 GPUs)") in text
    assert ("    vs classic     2 endpoints (ml.g5.2xlarge, one instance each, always on): $3.03/h, $2,212/month; "
            "at min this saves $3.03/h ($2,212/month, 100%); cheaper while at max scale less than 43% of the hours") in text
    assert "Total GPU cost at min scale: $0.00/h, $0/month" in text
    assert any(line.startswith("  GPU cost         $0.00/h..$7.09/h") for line in short_summary(example.outdir, str(REPO / SHARED)))


def test_picture_labels_the_shared_endpoint_with_its_models(example, report):
    labels = {e["path"]: ("Shared endpoint text", ["falcon-7b-instruct x 0..2, falcon-7b x 0..2"]) for e in report["endpoints"]}
    graph = derive(Assembly(example.outdir), labels)
    [node] = [n for n in graph.nodes.values() if n.kind == "endpoint"]
    assert node.title == "Shared endpoint text"
    assert "ml.g5.12xlarge x 0..1" in node.lines


def test_preflight_counts_a_shared_endpoint_at_its_max_instances():
    from stacks.config import load_config
    from stacks.models.jumpstart import resolve_endpoints
    from stacks.models.shared_endpoints import resolve_shared_endpoints
    from tools import preflight

    config = load_config(REPO / SHARED)
    needed = preflight.instances_needed([*resolve_endpoints(config), *resolve_shared_endpoints(config)])
    assert needed == {"ml.g5.12xlarge": 1}
