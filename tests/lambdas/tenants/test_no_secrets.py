"""No key, key hash or Authorization header in a log line, a metric, an answer after creation
or an exception message: a marker key goes through the CLI, the authorizer (allowed, malformed,
revoked), the local gateway, budgets and usage, and everything captured is searched for it."""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request

import pytest

from local.authorizer import LocalAuthorizer
from local.gateway import Routes
from local.gateway_server import FrontDoorHTTPServer
from tenants import authorizer, budget, usage
from tools import tenant_admin, tenants

MARKER = "sk-MARKERmarker0123456789abcdefghijklmnopqrstuv"


def _echo(event, _context):
    return {"statusCode": 200, "body": json.dumps(event["requestContext"].get("authorizer"))}


def _get(url: str, authorization: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": authorization})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_the_marker_key_appears_nowhere_but_in_creates_one_line(tenant_aws, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG, logger="tenants")
    caplog.set_level(logging.INFO)
    from tenants.keys import new_key

    keys = iter([MARKER])
    monkeypatch.setattr(tenant_admin, "new_key", lambda: next(keys, None) or new_key())
    flags = ["--keys-table", tenant_aws.keys_table, "--usage-plans", json.dumps(tenant_aws.usage_plans)]
    assert tenants.main([*flags, "create", "acme", "--tier", "free"]) == 0
    created = capsys.readouterr()
    assert created.out.strip() == MARKER and MARKER not in created.err

    seen: list[str] = []
    method_arn = "arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/v1/models"
    for header in (f"Bearer {MARKER}", f"Bearer {MARKER[:-1]}", f"Bearer {MARKER}x", MARKER, f"Basic {MARKER}"):
        try:
            seen.append(json.dumps(authorizer.handler({"methodArn": method_arn, "headers": {"Authorization": header}}, None)))
        except Exception as err:  # noqa: BLE001 - every refusal's message is checked below
            seen.append(repr(err))
    server = FrontDoorHTTPServer(("127.0.0.1", 0), _echo, Routes([("/v1/models", "GET")]), auth="tenant_keys",
                                 authorizer=LocalAuthorizer(authorizer.handler, 60))
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for header in (f"Bearer {MARKER}", f"Bearer {MARKER}x"):
            seen.append(repr(_get(server.url + "/v1/models", header)))
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(budget.BudgetExhausted) as exhausted:
        budget.reserve("acme", 10, 11)
    seen.append(str(exhausted.value))
    usage.record("acme", "falcon-7b-instruct", 1, 2, "model", 3.0, 200)
    for argv in (["list"], ["list", "--json"], ["rotate", "acme"], ["move", "acme", "--tier", "gold"],
                 ["revoke", "acme"]):
        assert tenants.main([*flags, *argv]) == 0
    seen.append(repr(tenant_admin.TenantAdmin(tenant_aws).records()))
    seen.append(authorizer.handler.__module__)
    try:
        authorizer.handler({"methodArn": method_arn, "headers": {"Authorization": f"Bearer {MARKER}"}}, None)
    except Exception as err:  # noqa: BLE001 - revoked by the rotation: its message is checked
        seen.append(repr(err))

    captured = capsys.readouterr()
    everything = "\n".join([caplog.text, captured.out, captured.err, *seen,
                            *(json.dumps(r.__dict__, default=str) for r in caplog.records)])
    assert "authorized" in caplog.text and "refused" in caplog.text  # the logs were captured
    assert "PromptTokens" in captured.out  # and the metric line
    for secret in (MARKER, MARKER[3:], hashlib.sha256(MARKER.encode()).hexdigest()):
        assert secret not in everything
