"""`make serve` with a tenant_keys config, as a newcomer runs it (its own process: a second
stack in the test process would rebuild the front door's cached runtime under the session
stack): it prints one `local tenant key:` line whose key works at once, a bad key is 401,
and `tools/tenants.py --local` manages the same local tenants."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tools import tenants

REPO = Path(__file__).resolve().parents[3]


def status(url: str, key: str | None) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def stdout(capsys) -> str:
    """What the CLI printed, without metric lines (EMF) of the same process."""
    return "\n".join(line for line in capsys.readouterr().out.splitlines() if not line.startswith('{"_aws"'))


def test_serve_prints_a_working_tenant_key_and_the_cli_works_locally(capsys):
    process = subprocess.Popen(
        [sys.executable, "-m", "local.serve", "--config", "config/examples/tenants.yaml", "--port", "0", "--no-jobs"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("local tenant key: "):
                break
        url = re.search(r"front door on (http://\S+)", "".join(lines)).group(1)
        keys = [line for line in lines if line.startswith("local tenant key: ")]
        assert len(keys) == 1, lines
        key = keys[0].removeprefix("local tenant key: ").strip()
        assert status(url + "/v1/models", key) == 200
        assert status(url + "/v1/models", None) == 401
        assert status(url + "/v1/models", "sk-wrong") == 401
        assert tenants.main(["--local", "list", "--json"]) == 0
        rows = json.loads(stdout(capsys))
        assert [(r["tenant"], r["status"]) for r in rows] == [("demo", "active")]
        assert tenants.main(["--local", "create", "acme", "--tier", "free"]) == 0
        assert status(url + "/v1/models", stdout(capsys).strip()) == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
