"""`make synth`'s path: the pinned CDK CLI runs app.py with cdk.json's context,
and the summary reads what it wrote."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.synth import REPO

CDK = REPO / "node_modules" / ".bin" / "cdk"


def test_cli_synth_and_summary(tmp_path):
    env = {**os.environ, "PATH": f"{REPO / '.venv/bin'}:{os.environ['PATH']}"}
    out = tmp_path / "cdk.out"
    subprocess.run(
        [str(CDK), "synth", "--quiet", "--output", str(out), "-c", "config=config/default.yaml"],
        cwd=REPO, env=env, check=True, capture_output=True, text=True,
    )
    summary = subprocess.run(
        [sys.executable, "-m", "tools.summary", str(out), "--config", "config/default.yaml"],
        cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout
    assert "huggingface-llm-falcon-7b-instruct-bf16@4.6.16" in summary
    assert "ml.g5.2xlarge x 1" in summary and "SM_NUM_GPUS    1" in summary
    assert "$1.52/h, $1,106/month at min scale" in summary


def test_cli_refuses_bad_config_with_field_path(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("endpoints:\n  - model_id: huggingface-llm-falcon-7b-instruct-bf16\n    instance_type: ml.p3.2xlarge\n")
    env = {**os.environ, "PATH": f"{REPO / '.venv/bin'}:{os.environ['PATH']}"}
    result = subprocess.run(
        [str(CDK), "synth", "--quiet", "--output", str(tmp_path / "out"), "-c", f"config={bad}"],
        cwd=REPO, env=env, capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "config error: " in result.stderr
    assert "endpoints[0].instance_type: 'ml.p3.2xlarge' is not supported" in result.stderr
