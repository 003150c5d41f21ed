"""Run the front door locally: ``python -m local.serve`` (what ``make serve`` runs).

Starts, all on loopback:
- the SageMaker runtime emulator (``local.sagemaker_emulator``) with one endpoint
  per configured model, or, for models on a shared endpoint, one endpoint with an
  inference component per model (``--ic-copies``, ``--scale-out-after-s``; copies
  are set at run time with ``POST /_emulator/components``),
- a moto server (its own process, when moto is installed) with the feedback
  table and the async summarization jobs' DynamoDB table, SQS queue (with a
  dead-letter queue after the same ``MAX_RECEIVES`` receives as deployed) and S3 bucket,
- an HTTP server on 127.0.0.1:8080 standing in for the REST API: it routes as
  the deployed API does (the resources and methods of the contract,
  ``lambdas/frontdoor/openapi.json`` via ``stacks.api_contract``; anything else is
  API Gateway's own JSON 403 "Missing Authentication Token", whatever the
  method), turns each routed request into an API Gateway REST proxy event (with
  ``requestContext.requestId``) and calls the very same
  ``frontdoor.handler.lambda_handler`` the Lambda runs,
- a worker thread standing in for the worker Lambda's SQS event source: it
  long-polls the jobs queue and calls ``summarizer.worker.lambda_handler`` with
  SQS events (batch size 1, real ``ApproximateReceiveCount``), deleting each
  message unless it is reported as a batch item failure,
- a second such thread for the dead-letter consumer's event source: it drains
  the DLQ through ``summarizer.dead_letters.lambda_handler`` (batches of up to
  10), so a job whose message was dead-lettered ends FAILED as deployed.

Handler calls are serialized, like one warm Lambda execution environment:
Powertools' resolver keeps the current event on the class, so two threads must
not be inside it at once.
"""

from __future__ import annotations

import argparse
import base64
import calendar
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from local.sagemaker_emulator import Emulator, EndpointConfig

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config" / "default.yaml"
API_GATEWAY_MAX_BODY = 10 * 1024 * 1024  # REST API payload limit
API_GATEWAY_MAX_BODY_MESSAGE = "Request Too Long"
MISSING_TOKEN_MESSAGE = "Missing Authentication Token"
# The streaming function's timeout (stacks/constructs/front_door.py STREAM_TIMEOUT).
STREAM_FUNCTION_TIMEOUT_S = 300.0
FEEDBACK_TABLE = "frontdoor-local-feedback"
JOBS_TABLE = JOBS_QUEUE = JOBS_BUCKET = "summarizer-local-jobs"
JOBS_DLQ = f"{JOBS_QUEUE}-dlq"
WORKER_TIMEOUT_S = 300.0  # as deployed (stacks/constructs/summarize_jobs.py WORKER_TIMEOUT)
DEAD_LETTERS_TIMEOUT_S = 60.0  # as deployed (stacks/constructs/summarize_jobs.py DEAD_LETTER_TIMEOUT)
# How long after a call met an inference component at zero copies the emulator has one
# running: AWS takes minutes (the alarm, an instance, the model); locally, seconds.
DEFAULT_SCALE_OUT_AFTER_S = 10.0
LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "frontdoor",
    "POWERTOOLS_METRICS_NAMESPACE": "FrontDoorLocal",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "LOG_LEVEL": "WARNING",
}


# ------------------------------------------------------------------- configuration


class _LocalEndpointNames(dict):
    """Endpoint names for ``frontdoor_models``: any model key maps to ``local-<key>``."""

    def __missing__(self, key: str) -> str:
        return f"local-{key}"


def models_from_config(path: str | Path = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    """MODELS_JSON entries for a deployment config, exactly as the Api stack builds them."""
    from stacks.config import load_config
    from stacks.lambda_env import frontdoor_models

    cfg = load_config(str(path))
    names = _LocalEndpointNames()
    for endpoint in getattr(cfg, "endpoints", []):
        key = getattr(endpoint, "name", None) or getattr(endpoint, "model_id", None)
        if key:
            names[key] = f"local-{key}"
    return frontdoor_models(cfg, names)


def feedback_env_from_config(path: str | Path = DEFAULT_CONFIG) -> dict[str, str]:
    """The front door's feedback-loop environment (`api.feedback`), as the Api stack sets it."""
    from stacks.config import load_config
    from stacks.lambda_env import feedback_env

    return feedback_env(load_config(str(path)).api)


def emulator_endpoints(models: list[dict[str, Any]], first_token_ms: float = 0.0,
                       per_token_ms: float = 0.0, *, ic_copies: int = 1,
                       scale_out_after_s: float | None = None) -> list[EndpointConfig]:
    """The emulator's models for MODELS_JSON: an endpoint per model with its own, and,
    for models with an ``inference_component``, their shared endpoint with one IC each
    (``ic_copies`` copies; ``scale_out_after_s``: a copy runs that long after a call met
    none, as the NoCapacityInvocationFailures alarm and step scaling policy do it)."""
    endpoints = []
    for m in models:
        limits = {}
        if m.get("max_input_length") and m.get("max_total_tokens"):
            limits = {"max_input_length": m["max_input_length"], "max_total_tokens": m["max_total_tokens"]}
        component = {}
        if m.get("inference_component"):
            component = {"inference_component": m["inference_component"], "copies": ic_copies,
                         "scale_out_after_s": scale_out_after_s}
        endpoints.append(EndpointConfig(m["endpoint_name"], m["family"], first_token_ms=first_token_ms,
                                        per_token_ms=per_token_ms, **limits, **component))
    return endpoints


# -------------------------------------------------------------------- API Gateway


def to_event(method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes,
             source_ip: str = "127.0.0.1", stage: str = "local",
             identity: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as a ``{proxy+}`` resource delivers it
    (``identity``: what IAM authorization adds to ``requestContext.identity``)."""
    parts = urlsplit(raw_path)
    path = unquote(parts.path) or "/"
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in headers:
        single[key] = value
        multi.setdefault(key, []).append(value)
    query = parse_qs(parts.query, keep_blank_values=True)
    try:
        text, is_b64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_b64 = base64.b64encode(body).decode(), True
    request_id = str(uuid.uuid4())
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "accountId": "123456789012",
            "apiId": "local",
            "identity": {"sourceIp": source_ip, "userAgent": single.get("User-Agent", ""), **(identity or {})},
        },
        "body": text if body else None,
        "isBase64Encoded": is_b64,
    }


# A segment of a resource path: a literal, or a `{param}` that takes any one non-empty segment.
_PARAM = re.compile(r"^\{[^{}/+]+\}$")


class Routes:
    """The resources and methods of the deployed REST API: every operation of the
    contract (what `stacks/constructs/api_gateway.py` adds to the API), matched the
    way API Gateway matches them: segment by segment on the path as sent, so an
    encoded slash (`%2F`) stays inside its segment."""

    def __init__(self, operations: list[tuple[str, str]], streaming: list[tuple[str, str]] = ()) -> None:
        self._routes = self._table(operations)
        self._streaming = self._table(streaming)

    @classmethod
    def from_contract(cls) -> Routes:
        from stacks import api_contract

        ops = api_contract.operations(api_contract.load())
        return cls([(op.path, op.method) for op in ops], [(op.path, op.method) for op in ops if op.streams])

    def streams(self, method: str, raw_path: str) -> bool:
        """A method API Gateway integrates with the streaming function (``ResponseTransferMode: STREAM``)."""
        return self._find(self._streaming, method, raw_path)

    def allows(self, method: str, raw_path: str) -> bool:
        return self._find(self._routes, method, raw_path)

    @staticmethod
    def _table(operations: list[tuple[str, str]]) -> list[tuple[tuple[str, ...], str]]:
        return [(tuple(path.strip("/").split("/")), method.upper()) for path, method in operations]

    @staticmethod
    def _find(table: list[tuple[tuple[str, ...], str]], method: str, raw_path: str) -> bool:
        segments = urlsplit(raw_path).path.strip("/").split("/")
        return any(m == method.upper() and Routes._matches(t, segments) for t, m in table)

    @staticmethod
    def _matches(template: tuple[str, ...], segments: list[str]) -> bool:
        return len(template) == len(segments) and all(
            (segment != "" if _PARAM.match(part) else part == segment) for part, segment in zip(template, segments))


def gateway_response(response_type: str, message: str, error_type: str | None = None,
                     request_id: str | None = None) -> tuple[list[tuple[str, str]], bytes]:
    """Headers and body of one of API Gateway's own answers (a gateway response), as the
    deployed API sends it: the body from its DEFAULT_4XX/5XX template
    (`stacks/constructs/api_gateway.py` ERROR_BODY, the shape of every error of the
    API), `x-amzn-RequestId` and `x-amzn-ErrorType` as API Gateway adds them, and
    `x-request-id` as the function's answers carry it."""
    request_id = request_id or str(uuid.uuid4())
    body = json.dumps({"error": response_type, "message": message, "request_id": request_id}).encode()
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id), ("x-request-id", request_id)]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return headers, body


# ------------------------------------------------------------------- IAM (SigV4)

ACCOUNT_ID = "123456789012"
# The local IAM users: access key -> (secret key, ARN). The one user has the dummy
# credentials of LOCAL_ENV, so a client signing with them is that user, e.g.
# `AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local python tools/call_api.py
# --url http://127.0.0.1:8080 --region us-east-1 GET /v1/models`, or local.openapi_fuzz_hooks.
LOCAL_IAM_USERS: dict[str, tuple[str, str]] = {"local": ("local", f"arn:aws:iam::{ACCOUNT_ID}:user/local")}
SIGV4_SERVICE = "execute-api"
SIGV4_MAX_SKEW_S = 5 * 60  # a signature's X-Amz-Date may be this far from now, either way


class AuthRefused(Exception):
    """API Gateway's IAM authorization refused the request (always a 403)."""

    def __init__(self, response_type: str, error_type: str, message: str) -> None:
        super().__init__(message)
        self.response_type, self.error_type, self.message = response_type, error_type, message


def _refuse_signature(message: str, error_type: str = "InvalidSignatureException") -> AuthRefused:
    return AuthRefused("INVALID_SIGNATURE", error_type, message)


def iam_identity(method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes,
                 region: str = "us-east-1", users: dict[str, tuple[str, str]] | None = None,
                 now: float | None = None) -> dict[str, str]:
    """API Gateway's IAM (``AWS_IAM``) authorization of one request, emulated: the
    SigV4 signature (service ``execute-api``) is checked against the signing user's
    secret key, over the headers it names, the path and query as sent and the body.
    Returns what API Gateway then puts in ``requestContext.identity``; raises
    ``AuthRefused`` with API Gateway's answer otherwise. (No IAM policy is evaluated:
    every local user may invoke every method.)"""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    users = LOCAL_IAM_USERS if users is None else users
    received: dict[str, str] = {}
    for name, value in headers:
        received[name.lower()] = value
    authorization = received.get("authorization")
    if not authorization:
        raise AuthRefused("MISSING_AUTHENTICATION_TOKEN", "MissingAuthenticationTokenException",
                          MISSING_TOKEN_MESSAGE)
    algorithm, _, rest = authorization.strip().partition(" ")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, equals, value = part.strip().partition("=")
        if not equals:
            raise _refuse_signature(f"Invalid key=value pair (missing equal-sign) in Authorization header: "
                                    f"'{authorization[:64]}'.", "IncompleteSignatureException")
        fields[key] = value
    problems = [f"Authorization header requires '{key}' parameter." for key in ("Credential", "Signature",
                                                                               "SignedHeaders") if key not in fields]
    if "x-amz-date" not in received:
        problems.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if algorithm != "AWS4-HMAC-SHA256":
        problems.insert(0, f"Unsupported Authorization Type '{algorithm[:32]}'.")
    if problems:
        raise _refuse_signature(" ".join(problems) + f" Authorization={authorization[:64]}",
                                "IncompleteSignatureException")
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[2:] != [region, SIGV4_SERVICE, "aws4_request"]:
        raise _refuse_signature(f"Credential should be scoped to a valid region and to the service "
                                f"'{SIGV4_SERVICE}': '{fields['Credential'][:128]}'.")
    access_key, day = scope[0], scope[1]
    if access_key not in users:
        raise AuthRefused("INVALID_SIGNATURE", "UnrecognizedClientException",
                          "The security token included in the request is invalid.")
    stamp = received["x-amz-date"]
    try:
        signed_at = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
    except (ValueError, OverflowError):
        raise _refuse_signature(f"Date must be in ISO-8601 'basic format'. Got '{stamp[:32]}'.",
                                "IncompleteSignatureException") from None
    if abs((time.time() if now is None else now) - signed_at) > SIGV4_MAX_SKEW_S or not stamp.startswith(day):
        raise _refuse_signature(f"Signature expired: {stamp} is outside the allowed time window.")
    signed_names = fields["SignedHeaders"].split(";")
    payload_hash = received.get("x-amz-content-sha256")
    if payload_hash is not None and payload_hash != hashlib.sha256(body).hexdigest():
        raise _refuse_signature("The provided x-amz-content-sha256 header does not match what was computed.")
    secret, arn = users[access_key]
    request = AWSRequest(method=method, url=f"http://{received.get('host', '')}{raw_path}",
                         headers={name: received.get(name, "") for name in signed_names}, data=body)
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(access_key, secret), SIGV4_SERVICE, region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if not hmac.compare_digest(expected.encode(), fields["Signature"].encode("utf-8", "surrogatepass")):
        raise _refuse_signature("The request signature we calculated does not match the signature you provided. "
                                "Check your AWS Secret Access Key and signing method. Consult the service "
                                "documentation for details.")
    return {"accountId": ACCOUNT_ID, "accessKey": access_key, "caller": access_key, "user": access_key,
            "userArn": arn}


@dataclass
class LocalContext:
    """The parts of LambdaContext that Powertools and the handler read."""

    function_name: str = "frontdoor-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:frontdoor-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/frontdoor-local"
    log_stream_name: str = "local"
    timeout_s: float = 28.0
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


class FrontDoorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Callable[[dict, Any], dict],
                 routes: Routes | None = None, *, auth: str = "none",
                 invoke_lock: threading.Lock | None = None, stream_url: str | None = None) -> None:
        """``auth="iam"`` authorizes every routed request as the deployed API does with
        ``api.auth: iam`` (``iam_identity``); ``"none"`` lets every request through
        without an identity. Servers in front of one handler share its ``invoke_lock``.
        ``stream_url``: the streaming function's web server (``frontdoor.streaming``), which
        the streaming methods reach as the Lambda Web Adapter forwards them; without it they
        go to ``handler`` too (one buffered body)."""
        if auth not in ("none", "iam"):
            raise ValueError(f"auth must be 'none' or 'iam', got {auth!r}")
        super().__init__(address, _ProxyHandler)
        self.lambda_handler = handler
        self.invoke_lock = invoke_lock or threading.Lock()
        self.routes = routes if routes is not None else Routes.from_contract()
        self.auth = auth
        self.stream_url = stream_url

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _ProxyHandler(BaseHTTPRequestHandler):
    server: FrontDoorHTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # see local.sagemaker_emulator._Handler

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
        identity = None
        if self.server.auth == "iam":
            try:
                identity = iam_identity(self.command, self.path, list(self.headers.items()), body)
            except AuthRefused as refused:
                headers, data = gateway_response(refused.response_type, refused.message, refused.error_type)
                self._write(403, headers, data)
                return
        event = to_event(self.command, self.path, list(self.headers.items()), body, self.client_address[0],
                         identity=identity)
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


# ------------------------------------------------------------------------- stack


def _import_handler() -> Callable[[dict, Any], dict]:
    lambdas = str(ROOT / "lambdas")
    if lambdas not in sys.path:  # the Lambda asset root, as the runtime sees it
        sys.path.insert(0, lambdas)
    from frontdoor.handler import lambda_handler

    return lambda_handler


@dataclass
class LocalStack:
    emulator: Emulator
    server: FrontDoorHTTPServer
    moto: Any = None
    worker: LocalWorker | None = None
    dead_letters: LocalWorker | None = None
    saved_env: dict[str, str | None] = field(default_factory=dict)
    fronts: list[FrontDoorHTTPServer] = field(default_factory=list)
    stream_server: Any = None
    """The streaming function's web server (``frontdoor.streaming.StreamServer``)."""

    @property
    def url(self) -> str:
        return self.server.url

    def front(self, *, auth: str = "iam", host: str = "127.0.0.1", port: int = 0) -> FrontDoorHTTPServer:
        """Another API Gateway in front of the same handler, e.g. one that authorizes as
        the deployed API does (``auth="iam"``); stopped with the stack."""
        server = FrontDoorHTTPServer((host, port), self.server.lambda_handler, self.server.routes, auth=auth,
                                     invoke_lock=self.server.invoke_lock, stream_url=self.server.stream_url)
        threading.Thread(target=server.serve_forever, name=f"frontdoor-local-{auth}", daemon=True).start()
        self.fronts.append(server)
        return server

    def restore_env(self) -> None:
        """Put the process environment back; built clients keep their endpoints."""
        for key, value in self.saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self.saved_env.clear()

    def stop(self) -> None:
        for poller in (self.worker, self.dead_letters):
            if poller is not None:
                poller.stop()
        for server in (*self.fronts, self.server, *((self.stream_server,) if self.stream_server else ())):
            server.shutdown()
            server.server_close()
        self.emulator.stop()
        if self.moto is not None:
            self.moto.stop()
        self.restore_env()


class MotoProcess:
    """``python -m moto.server`` in its own process on a free loopback port.

    Not ``ThreadedMotoServer``: that shares moto's in-process backends, which any
    ``mock_aws()`` in the same process (the summarizer's unit tests) resets.
    """

    def __init__(self, host: str = "127.0.0.1", timeout_s: float = 30.0) -> None:
        with socket.socket() as probe:
            probe.bind((host, 0))
            self.host, self.port = probe.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto server did not start on {self.url}") from None
                time.sleep(0.05)

    def get_host_and_port(self) -> tuple[str, int]:
        return self.host, self.port

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _start_moto() -> tuple[Any, str] | None:
    import importlib.util

    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("moto.server") is None:
        return None
    process = MotoProcess()
    return process, process.url


def _create_feedback_table(endpoint_url: str) -> None:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint_url)
    client.create_table(
        TableName=FEEDBACK_TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _create_jobs_infra(endpoint_url: str) -> dict[str, str]:
    """The jobs table, bucket and queue (+ DLQ) as the Api stack makes them; returns their env."""
    import boto3

    from summarizer.worker import MAX_RECEIVES

    boto3.client("dynamodb", endpoint_url=endpoint_url).create_table(
        TableName=JOBS_TABLE, AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("s3", endpoint_url=endpoint_url).create_bucket(Bucket=JOBS_BUCKET)
    sqs = boto3.client("sqs", endpoint_url=endpoint_url)
    dlq_url = sqs.create_queue(QueueName=JOBS_DLQ)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(QueueName=JOBS_QUEUE, Attributes={
        "VisibilityTimeout": str(int(WORKER_TIMEOUT_S) * 6),  # Lambda: >= 6x the function timeout
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES}),
    })["QueueUrl"]
    return {"JOBS_TABLE_NAME": JOBS_TABLE, "JOBS_QUEUE_URL": queue_url, "JOBS_BUCKET_NAME": JOBS_BUCKET,
            "AWS_ENDPOINT_URL_SQS": endpoint_url, "AWS_ENDPOINT_URL_S3": endpoint_url}


class LocalWorker:
    """An SQS event source mapping with partial batch responses: the worker Lambda's
    (batch size 1), or the dead-letter consumer's (``batch_size=10``).

    Each batch received is one invocation of ``handler`` with an SQS event carrying
    the messages' real attributes (``ApproximateReceiveCount`` included). Messages
    not reported in ``batchItemFailures`` are deleted; failed ones (or a raising
    invocation's whole batch) come back after the queue's visibility timeout, as on AWS.
    """

    def __init__(self, sqs: Any, queue_url: str, handler: Callable[[dict, Any], dict],
                 timeout_s: float = WORKER_TIMEOUT_S, poll_s: int = 1, *, batch_size: int = 1,
                 name: str = "summarizer-worker-local") -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self.batch_size = batch_size
        self.name = name
        self.arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.invocations = 0
        self._busy = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> LocalWorker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.poll_s + 5)

    def idle(self) -> bool:
        """Nothing running and nothing waiting in the queue."""
        if self._busy.is_set():
            return False
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return not self._busy.is_set() and all(v == "0" for v in attrs.values())

    def wait_idle(self, timeout_s: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.05)
        return False

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=self.poll_s,
                    AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            except Exception as exc:  # keep polling, like the event source mapping
                print(f"{self.name}: receive failed: {exc}", file=sys.stderr)
                self._stop.wait(1)
                continue
            if messages:
                self._busy.set()
                try:
                    self._invoke(messages)
                finally:
                    self._busy.clear()

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        records = [{
            "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": message.get("Attributes", {}), "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": self.arn,
            "awsRegion": "us-east-1",
        } for message in messages]
        context = LocalContext(function_name=self.name, timeout_s=self.timeout_s,
                               invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{self.name}",
                               log_group_name=f"/aws/lambda/{self.name}", memory_limit_in_mb=1024)
        self.invocations += 1
        try:
            response = self.handler({"Records": records}, context) or {}
            failed = {f.get("itemIdentifier") for f in response.get("batchItemFailures", [])}
        except Exception as exc:  # a failed invocation: the whole batch returns to the queue
            print(f"{self.name}: invocation failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed = {record["messageId"] for record in records}
        for record in records:
            if record["messageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"])


def start_stack(models: list[dict[str, Any]], *, host: str = "127.0.0.1", port: int = 8080,
                first_token_ms: float = 0.0, per_token_ms: float = 0.0, feedback: bool = True,
                jobs: bool = True, sync_budget_s: float | None = None,
                extra_templates: list[dict[str, Any]] | None = None,
                extra_env: dict[str, str] | None = None, auth: str = "none", ic_copies: int = 1,
                scale_out_after_s: float | None = DEFAULT_SCALE_OUT_AFTER_S,
                capacity_retry_s: int | None = None) -> LocalStack:
    """Start emulator, moto (optional), the front door, the jobs worker and the jobs DLQ's consumer;
    returns handles to stop them.

    Sets the process environment the handlers read (MODELS_JSON, endpoints,
    dummy credentials) and builds the handlers' clients eagerly, so callers may
    ``restore_env()`` right after without affecting the running stack.
    ``sync_budget_s`` lowers the estimated model time POST /v1/summarize answers
    inline (SUMMARIZE_SYNC_BUDGET_S), so medium documents become jobs.
    ``auth="iam"`` makes the server authorize requests as the deployed API does
    (SigV4 with the local user's credentials, ``LOCAL_IAM_USERS``).
    Models on a shared endpoint start with ``ic_copies`` copies and scale out
    ``scale_out_after_s`` after a call met none; a job waiting for them runs again
    every ``capacity_retry_s`` (SUMMARIZE_CAPACITY_RETRY_S; default: as deployed, 60 s).
    """
    endpoints = emulator_endpoints(models, first_token_ms, per_token_ms, ic_copies=ic_copies,
                                   scale_out_after_s=scale_out_after_s)
    emulator = Emulator(endpoints, host=host).start()
    env = {**LOCAL_ENV, "MODELS_JSON": json.dumps(models),
           "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": emulator.url, **(extra_env or {})}
    if sync_budget_s is not None:
        env["SUMMARIZE_SYNC_BUDGET_S"] = str(sync_budget_s)
    if capacity_retry_s is not None:
        env["SUMMARIZE_CAPACITY_RETRY_S"] = str(capacity_retry_s)
    if extra_templates is not None:
        env["EXTRA_TEMPLATES_JSON"] = json.dumps(extra_templates)
    moto = moto_url = None
    if feedback or jobs:
        started = _start_moto()
        if started is None:
            print("moto is not installed: POST /v1/feedback will answer 503, /v1/summarize has no async jobs",
                  file=sys.stderr)
        else:
            moto, moto_url = started
            env["AWS_ENDPOINT_URL_DYNAMODB"] = moto_url
            if feedback:
                env["FEEDBACK_TABLE_NAME"] = FEEDBACK_TABLE
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    lambda_handler = _import_handler()  # puts lambdas/ on sys.path
    worker = None
    if moto_url is not None:
        if feedback:
            _create_feedback_table(moto_url)
        if jobs:
            jobs_env = _create_jobs_infra(moto_url)
            saved.update({key: os.environ.get(key) for key in jobs_env if key not in saved})
            os.environ.update(jobs_env)

    from frontdoor import config
    from summarizer import dead_letters as summarizer_dead_letters
    from summarizer import settings as summarizer_settings
    from summarizer import worker as summarizer_worker

    config.reset()
    runtime = config.runtime()
    runtime.invoker.client  # noqa: B018 - build now, while the endpoint env is set
    if runtime.feedback is not None:
        runtime.feedback.client  # noqa: B018
    runtime.summaries.warm()  # the API's summarization services (they wake sleeping models)
    summarizer_settings.default_services.cache_clear()
    services = summarizer_settings.default_services().warm()  # the worker's
    summarizer_worker._worker = None
    summarizer_dead_letters._store = None
    dead_letters = None
    if services.store is not None:
        summarizer_worker._default_worker()
        summarizer_dead_letters._default_store()
        sqs = services.store.sqs
        worker = LocalWorker(sqs, services.store.queue_url, summarizer_worker.lambda_handler).start()
        dead_letters = LocalWorker(sqs, sqs.get_queue_url(QueueName=JOBS_DLQ)["QueueUrl"],
                                   summarizer_dead_letters.lambda_handler, timeout_s=DEAD_LETTERS_TIMEOUT_S,
                                   batch_size=10, name="summarizer-dead-letters-local").start()
    # The streaming function: its web server on a loopback port of its own, its SageMaker
    # client built now (while the emulator's endpoint variable is set).
    from frontdoor.streaming import StreamApp
    from frontdoor.streaming import serve as serve_streams

    stream_server = serve_streams(host, 0, StreamApp(runtime).warm())
    server = FrontDoorHTTPServer((host, port), lambda_handler, auth=auth, stream_url=stream_server.url)
    threading.Thread(target=server.serve_forever, name="frontdoor-local", daemon=True).start()
    return LocalStack(emulator=emulator, server=server, moto=moto, worker=worker, dead_letters=dead_letters,
                      saved_env=saved, stream_server=stream_server)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the front door locally against the SageMaker emulator.")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="deployment config (default: %(default)s)")
    parser.add_argument("--models-json", help="a MODELS_JSON file to use instead of --config")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--first-token-ms", type=float, default=50.0, help="emulated time to first token")
    parser.add_argument("--per-token-ms", type=float, default=0.0, help="emulated time per generated token")
    parser.add_argument("--sync-budget-s", type=float, default=None,
                        help="estimated model seconds /v1/summarize answers inline before it makes a job (default 25)")
    parser.add_argument("--no-jobs", action="store_true", help="no async summarization jobs (no moto queue/bucket)")
    parser.add_argument("--ic-copies", type=int, default=1,
                        help="initial copies of each model on a shared endpoint (0: scaled to zero; "
                             "POST /_emulator/components changes them at run time)")
    parser.add_argument("--scale-out-after-s", type=float, default=DEFAULT_SCALE_OUT_AFTER_S,
                        help="an inference component at 0 copies has 1 this long after a call met none "
                             "(default %(default)s; AWS: ~5 minutes)")
    parser.add_argument("--capacity-retry-s", type=int, default=5,
                        help="a job waiting for a model to scale out runs again this often "
                             "(SUMMARIZE_CAPACITY_RETRY_S; default %(default)s, deployed: 60)")
    parser.add_argument("--auth", choices=("none", "iam"), default="none",
                        help="'iam': require SigV4 (service execute-api) from the local user, access key 'local', "
                             "secret 'local', as the deployed API requires it (default: none)")
    args = parser.parse_args(argv)
    if args.models_json:
        models = json.loads(Path(args.models_json).read_text())
        extra_env: dict[str, str] = {}
    else:
        models = models_from_config(args.config)
        extra_env = feedback_env_from_config(args.config)
    stack = start_stack(models, port=args.port, first_token_ms=args.first_token_ms, per_token_ms=args.per_token_ms,
                        jobs=not args.no_jobs, sync_budget_s=args.sync_budget_s, auth=args.auth, extra_env=extra_env,
                        ic_copies=args.ic_copies, scale_out_after_s=args.scale_out_after_s,
                        capacity_retry_s=args.capacity_retry_s)
    print(f"front door on {stack.url}  (emulator {stack.emulator.url}); models: "
          f"{', '.join(m['name'] for m in models)}", flush=True)
    # `kill` as well as Ctrl-C stops the stack, moto's process included.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stack.stop()


if __name__ == "__main__":
    main()
