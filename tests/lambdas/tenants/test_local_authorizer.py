"""The local gateway authorizes as API Gateway does with tenant keys: the real authorizer, 401
gateway responses, answers cached per Authorization header for the TTL on every route (the
streaming ones too), the tenant in requestContext.authorizer."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from local.authorizer import LocalAuthorizer
from local.gateway import Routes
from local.gateway_server import FrontDoorHTTPServer
from tenants.authorizer import handler as authorizer_handler

ROUTES = Routes([("/v1/models", "GET"), ("/v1/generate/stream", "POST")], [("/v1/generate/stream", "POST")])


def echo(event, _context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(event["requestContext"].get("authorizer"))}


class _StreamEcho(BaseHTTPRequestHandler):
    """The streaming function's web server, answering with the authorizer it was handed."""

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        data = json.dumps(json.loads(self.headers["x-amzn-request-context"]).get("authorizer")).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def gateway(tenant_aws):
    stream = serve(ThreadingHTTPServer(("127.0.0.1", 0), _StreamEcho))
    servers = []

    def start(ttl_s: int) -> FrontDoorHTTPServer:
        authorizer = LocalAuthorizer(authorizer_handler, ttl_s)
        server = serve(FrontDoorHTTPServer(("127.0.0.1", 0), echo, ROUTES, auth="tenant_keys", authorizer=authorizer,
                                           stream_url=f"http://127.0.0.1:{stream.server_address[1]}"))
        servers.append(server)
        return server

    yield start
    for server in [*servers, stream]:
        server.shutdown()
        server.server_close()


def call(server, method, path, key=None, authorization=None):
    request = urllib.request.Request(server.url + path, method=method, data=b"{}" if method == "POST" else None)
    if key or authorization:
        request.add_header("Authorization", authorization or f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_refusals_are_api_gateways_401(gateway, admin):
    server = gateway(60)
    for authorization in (None, "Bearer sk-" + "x" * 43, "Basic abc"):
        status, body = call(server, "GET", "/v1/models", authorization=authorization)
        assert status == 401
        assert (body["error"], body["message"]) == ("UNAUTHORIZED", "Unauthorized")
    assert call(server, "POST", "/v1/generate/stream")[0] == 401
    assert call(server, "GET", "/v1/nothing-here")[0] == 403  # routing comes first, as deployed


def test_a_tenant_reaches_buffered_and_streaming_routes_with_its_context(gateway, admin):
    server = gateway(60)
    key, _ = admin.create("acme", "free")
    expected = {"tenant": "acme", "tier": "free", "models": "falcon-7b-instruct", "token_budget": "1000",
                "principalId": "acme"}
    assert call(server, "GET", "/v1/models", key) == (200, expected)
    assert call(server, "POST", "/v1/generate/stream", key) == (200, expected)
    # One authorizer call: the cached answer serves the tenant's other route.
    assert server.authorizer.calls == 1


def test_revocation_takes_effect_when_the_cached_answer_expires(gateway, admin):
    cached, uncached = gateway(60), gateway(0)
    key, _ = admin.create("acme", "free")
    assert call(cached, "GET", "/v1/models", key)[0] == 200
    assert call(uncached, "GET", "/v1/models", key)[0] == 200
    admin.revoke("acme")
    assert call(cached, "GET", "/v1/models", key)[0] == 200  # within cache_ttl_seconds
    assert call(uncached, "GET", "/v1/models", key)[0] == 401
