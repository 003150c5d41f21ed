"""tools.report on the default config's session-cached synth: report contents and the picture."""

from __future__ import annotations

import json
import re

import pytest

from tests.nag_report import acknowledgments
from tests.synth import CONFIGS, REPO, synth
from tools.report import build, render, short_summary, write_report
from tools.report.assembly import Assembly
from tools.report.diagram import derive, draw

DEFAULT = CONFIGS["default"]


@pytest.fixture(scope="module")
def default():
    return synth(DEFAULT)


@pytest.fixture(scope="module")
def report(default) -> dict:
    return build(default.outdir, str(REPO / DEFAULT))


@pytest.fixture(scope="module")
def markdown(report) -> str:
    return render(report)


def test_default_endpoint_cost_at_min_and_max_scale(report, markdown):
    # Given Falcon-7B-instruct on ml.g5.2xlarge, autoscaling 1..2, pinned at $1.515/h
    (ep,) = report["endpoints"]
    assert (ep["model_id"], ep["model_version"]) == ("huggingface-llm-falcon-7b-instruct-bf16", "4.6.16")
    assert ep["instance_type"] == "ml.g5.2xlarge"
    assert ep["count"] == {"initial": 1, "min": 1, "max": 2}
    assert ep["cost"]["min"] == {"usd_per_hour": 1.515, "usd_per_month": 1105.95}
    assert ep["cost"]["max"] == {"usd_per_hour": 3.03, "usd_per_month": 2211.9}
    # Then the table rounds half-up as people do: $1.515 -> $1.52
    assert (
        "| falcon-7b-instruct | `huggingface-llm-falcon-7b-instruct-bf16@4.6.16` | ml.g5.2xlarge | 1..2 "
        "| $1.52 | $1,106 | $3.03 | $2,212 |" in markdown
    )
    assert "pinned 2026-11-26" in markdown and "not the price region" not in markdown


def test_gpu_memory_fit_of_the_default_endpoint(report):
    gpu = report["endpoints"][0]["gpu"]
    assert gpu["total_gib"] == 24 and gpu["gpus"] == 1 and gpu["gpu"] == "A10G"
    assert 12.8 < gpu["weights_gib"] < 13.0
    assert gpu["fits"] and gpu["headroom_gib"] == pytest.approx(24 - gpu["weights_gib"], abs=0.01)


def test_the_api_is_the_only_public_surface_and_requires_sigv4(report):
    (surface,) = report["public_surfaces"]
    assert surface["kind"] == "API Gateway REST API" and surface["stack"] == "Api"
    assert surface["auth"] == ["AWS_IAM"] and surface["waf"]
    assert surface["endpoint_types"] == ["REGIONAL"]
    assert {(m["method"], m["path"]) for m in surface["methods"]} >= {
        ("POST", "/v1/generate"),
        ("GET", "/v1/jobs/{job_id}"),
        ("POST", "/v1/summarize"),
    }
    assert report["warnings"] == []


def test_every_role_is_listed_with_its_grants(default, report):
    templates = default.templates()
    expected = {
        (stack, lid)
        for stack, t in templates.items()
        for lid, r in t["Resources"].items()
        if r["Type"] == "AWS::IAM::Role"
    }
    assert {(r["stack"], r["logical_id"]) for r in report["iam_roles"]} == expected
    handler = next(r for r in report["iam_roles"] if r["path"].startswith("Api/FrontDoor/Handler/Role"))
    invoke = next(s for s in handler["statements"] if "sagemaker:InvokeEndpoint" in s["actions"])
    # A weak cross-stack reference renders as the endpoint in its home stack
    assert invoke["resources"] == ["Endpoints:Falcon7bInstructEndpointG52xlarge24A98503"]
    assert any(s["resources"] == ["${FrontDoorJobsBucketA9DDA6D6.Arn}/*"] for s in handler["statements"])


def test_every_acknowledgment_is_listed_with_its_reason(default, report, markdown):
    from_constructs = {
        (path, rule, reason) for path, rule, reason in acknowledgments(default.deployment.stacks)
    }
    listed = {(a["path"], a["rule"], a["reason"]) for a in report["nag_acknowledgments"]}
    assert listed == from_constructs and len(listed) > 10
    for _, _rule, reason in list(listed)[:5]:
        assert reason.replace("|", "\\|") in markdown


def test_resources_by_type_per_stack(default, report):
    rows = {s["id"]: s for s in report["stacks"]}
    assert set(rows) == set(default.templates())
    assert rows["Endpoints"]["resources_by_type"]["AWS::SageMaker::Endpoint"] == 1
    assert rows["Api"]["resources_by_type"]["AWS::ApiGateway::Method"] == len(
        report["public_surfaces"][0]["methods"]
    )


def test_intrinsics_render_readably(default):
    asm = Assembly(default.outdir)
    assert asm.render("Api", {"Fn::GetAtt": ["X", "Arn"]}) == "X.Arn"
    assert asm.render(
        "Api", {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "B"}, "/*"]]}
    ) == ("arn:${AWS::Partition}:s3:::${B}/*")
    assert asm.render("Api", {"Fn::Sub": ["${A}-x", {"A": {"Ref": "Y"}}]}) == "${Y}-x"


def test_short_summary_for_the_synth_summary(default):
    lines = short_summary(default.outdir, str(REPO / DEFAULT), resolved=default.deployment.resolved)
    text = "\n".join(lines)
    assert re.search(r"public surfaces  1: API Gateway REST API \(\d+ methods, auth AWS_IAM, WAF\)", text)
    assert "$1.52/h..$3.03/h ($1,106..$2,212/month)" in text
    assert "WARNING" not in text


def test_written_report_files(tmp_path, report):
    md, js = write_report(report, tmp_path)
    assert md.read_text().startswith("# Review report: fm-platform in us-east-1")
    assert json.loads(js.read_text())["endpoints"][0]["instance_type"] == "ml.g5.2xlarge"


def test_picture_is_derived_from_the_templates(default):
    g = derive(Assembly(default.outdir))
    kinds = {n.kind for n in g.nodes.values()}
    assert kinds == {"clients", "waf", "api", "function", "queue", "table", "bucket", "endpoint"}
    titles = {(g.nodes[e.src].title, g.nodes[e.dst].title) for e in g.edges if e.label == "proxy"}
    # The buffered front door, and the streaming function of the /stream routes (issue 12).
    assert titles == {("API Gateway (REST)", "Lambda FrontDoor Handler"), ("API Gateway (REST)", "Lambda Streaming")}
    endpoint = next(n for n in g.nodes.values() if n.kind == "endpoint")
    assert "ml.g5.2xlarge x 1..2" in endpoint.lines
    edges = {(g.nodes[e.src].kind, g.nodes[e.dst].kind, e.label) for e in g.edges}
    assert ("function", "endpoint", "invoke") in edges and ("queue", "function", "trigger") in edges
    assert ("function", "queue", "enqueue") in edges
    assert not g.vpcs  # the default config has no network


def test_picture_files_are_png_and_svg(tmp_path, default, report):
    png, svg = draw(default.outdir, tmp_path, report)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "ml.g5.2xlarge x 1..2" in text and "huggingface-llm-falcon-7b-instruct-bf16@4.6.16" in text


def test_studio_and_network_change_the_picture_and_add_no_public_surface():
    # Given the VpcOnly Studio example (a new VPC, no NAT): reuses the session synth of tests/studio
    studio = synth(CONFIGS["studio-vpc"])
    g = derive(Assembly(studio.outdir))
    (vpc,) = g.vpcs
    assert vpc.title == "VPC 10.40.0.0/16"
    members = {g.nodes[m].kind for m in vpc.members}
    assert members == {"endpoint", "studio"}
    assert any("sagemaker.runtime" in line for line in vpc.lines)
    studio_key = next(k for k, n in g.nodes.items() if n.kind == "studio")
    assert any(e.src == studio_key and g.nodes[e.dst].kind == "endpoint" for e in g.edges)
    report = build(studio.outdir, str(REPO / CONFIGS["studio-vpc"]))
    assert [s["kind"] for s in report["public_surfaces"]] == ["API Gateway REST API"]
    assert report["warnings"] == []


def test_control_tower_acknowledgments_are_listed_beside_the_nag_ones(default, report, markdown):
    from stacks.compliance.control_tower import control_acknowledgments

    expected = {(p, c, r) for stack in default.deployment.stacks for p, c, r in control_acknowledgments(stack)}
    listed = {(a["path"], a["control"], a["reason"]) for a in report["control_tower_acknowledgments"]}
    assert listed == expected and listed
    assert "## AWS Control Tower acknowledgments" in markdown
    assert not [a for a in report["nag_acknowledgments"] if a["rule"].startswith("cdk-validator-cfnguard::")]
