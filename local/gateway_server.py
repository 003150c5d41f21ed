"""The HTTP server standing in for the deployed REST API: routes as API Gateway does,
authorizes (``auth="iam"``), hands each routed request to the front door's handler as a
proxy event, or, for the streaming methods, relays it to the streaming function's web
server as the Lambda Web Adapter would."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit

from local.authorizer import LocalAuthorizer, Refused
from local.gateway import (API_GATEWAY_MAX_BODY, API_GATEWAY_MAX_BODY_MESSAGE, MISSING_TOKEN_MESSAGE, Routes,
                           gateway_response, to_event)
from local.iam import ACCOUNT_ID, AuthRefused, iam_identity
from local.lambda_runtime import LocalContext

# The streaming function's timeout (stacks/constructs/frontdoor.py STREAM_TIMEOUT).
STREAM_FUNCTION_TIMEOUT_S = 300.0


class FrontDoorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Callable[[dict, Any], dict],
                 routes: Routes | None = None, *, auth: str = "none",
                 invoke_lock: threading.Lock | None = None, stream_url: str | None = None,
                 authorizer: LocalAuthorizer | None = None) -> None:
        """``auth="iam"`` authorizes every routed request as the deployed API does with
        ``api.auth: iam`` (``iam_identity``); ``"tenant_keys"`` runs ``authorizer`` (the tenant
        keys' Lambda authorizer, ``local.authorizer``) on every routed request, streaming ones
        included; ``"none"`` lets every request through without an identity. Servers in front of one handler share its ``invoke_lock``.
        ``stream_url``: the streaming function's web server (``frontdoor.stream_server``), which
        the streaming methods reach as the Lambda Web Adapter forwards them; without it they
        go to ``handler`` too (one buffered body)."""
        if auth not in ("none", "iam", "tenant_keys"):
            raise ValueError(f"auth must be 'none', 'iam' or 'tenant_keys', got {auth!r}")
        if (auth == "tenant_keys") != (authorizer is not None):
            raise ValueError("auth 'tenant_keys' needs an authorizer, and only it takes one")
        super().__init__(address, _ProxyHandler)
        self.lambda_handler = handler
        self.invoke_lock = invoke_lock or threading.Lock()
        self.routes = routes if routes is not None else Routes.from_contract()
        self.auth = auth
        self.authorizer = authorizer
        self.stream_url = stream_url

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _ProxyHandler(BaseHTTPRequestHandler):
    server: FrontDoorHTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # see local.emulator.handler.EmulatorHandler

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("LOCAL_SERVE_ACCESS_LOG"):
            super().log_message(format, *args)

    def __getattr__(self, name: str) -> Any:
        # Every method, not only the ones with a do_X: API Gateway answers any method
        # itself (403 JSON below), never a 501 HTML page.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests (bad request line, headers too large): JSON, like every answer."""
        headers, body = gateway_response("BAD_REQUEST", message or self.responses.get(code, ("",))[0])
        self._write(code, headers, body)
        self.close_connection = True

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > API_GATEWAY_MAX_BODY:  # API Gateway refuses before the Lambda runs
            headers, data = gateway_response("REQUEST_TOO_LARGE", API_GATEWAY_MAX_BODY_MESSAGE)
            self._write(413, headers, data)
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        if not self.server.routes.allows(self.command, self.path):
            # No such resource, or no such method on it: API Gateway's MISSING_AUTHENTICATION_TOKEN
            # gateway response (403 on a REST API, for unknown paths and methods alike).
            headers, data = gateway_response("MISSING_AUTHENTICATION_TOKEN", MISSING_TOKEN_MESSAGE,
                                             "MissingAuthenticationTokenException")
            self._write(403, headers, data)
            return
        identity, authorizer = None, None
        if self.server.auth == "iam":
            try:
                identity = iam_identity(self.command, self.path, list(self.headers.items()), body)
            except AuthRefused as refused:
                headers, data = gateway_response(refused.response_type, refused.message, refused.error_type)
                self._write(403, headers, data)
                return
        elif self.server.authorizer is not None:
            try:
                authorizer = self.server.authorizer.authorize(
                    self.command, urlsplit(self.path).path, dict(self.headers.items()))
            except Refused as refused:
                answer = refused.answer
                headers, data = gateway_response(answer.response_type, answer.message, answer.error_type)
                self._write(answer.status, headers, data)
                return
        event = to_event(self.command, self.path, list(self.headers.items()), body, self.client_address[0],
                         identity=identity, authorizer=authorizer)
        if self.server.stream_url and self.server.routes.streams(self.command, self.path):
            return self._stream(event, body)
        with self.server.invoke_lock:
            response = self.server.lambda_handler(event, LocalContext())
        headers: list[tuple[str, str]] = []
        for key, values in (response.get("multiValueHeaders") or {}).items():
            headers += [(key, str(v)) for v in values]
        for key, value in (response.get("headers") or {}).items():
            headers.append((key, str(value)))
        payload = response.get("body") or ""
        data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
        self._write(int(response["statusCode"]), headers, data)

    def _stream(self, event: dict[str, Any], body: bytes) -> None:
        """A streaming method, as deployed: API Gateway invokes the streaming function with
        InvokeWithResponseStream and the Lambda Web Adapter forwards the request to its web
        server, the request context in ``x-amzn-request-context`` and the invocation's in
        ``x-amzn-lambda-context``; the answer is relayed as it arrives (chunk by chunk),
        neither waited for nor buffered (``ResponseTransferMode: STREAM``)."""
        import http.client

        target = urlsplit(self.server.stream_url)
        context = {"request_id": event["requestContext"]["requestId"],
                   "deadline": int((time.time() + STREAM_FUNCTION_TIMEOUT_S) * 1000),
                   "invoked_function_arn": f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:frontdoor-stream-local"}
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length", "host")}
        headers.update({"x-amzn-request-context": json.dumps(event["requestContext"]),
                        "x-amzn-lambda-context": json.dumps(context), "Content-Length": str(len(body))})
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=STREAM_FUNCTION_TIMEOUT_S)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            upstream = connection.getresponse()
            chunked = (upstream.getheader("Transfer-Encoding") or "").lower() == "chunked"
            if not chunked:
                self._write(upstream.status, [(k, v) for k, v in upstream.getheaders()
                                              if k.lower() not in ("connection", "keep-alive")], upstream.read())
                return
            self.send_response(upstream.status)
            for key, value in upstream.getheaders():
                if key.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                    self.send_header(key, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while data := upstream.read1(65536):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the caller went away; closing upstream stops the stream
        finally:
            connection.close()

    def _write(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        for key, value in headers:
            if key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":  # a HEAD answer has the headers of a body, never the body
            self.wfile.write(data)
