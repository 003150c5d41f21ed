"""Run the front door locally: ``python -m local.serve`` (what ``make serve`` runs).

Starts, all on loopback:
- the SageMaker runtime emulator (``local.sagemaker_emulator``) with one endpoint
  per configured model,
- moto's DynamoDB server with the feedback table (when moto is installed),
- an HTTP server on 127.0.0.1:8080 that turns each request into an API Gateway
  REST proxy event (with ``requestContext.requestId``) and calls the very same
  ``frontdoor.handler.lambda_handler`` the Lambda runs.

Handler calls are serialized, like one warm Lambda execution environment:
Powertools' resolver keeps the current event on the class, so two threads must
not be inside it at once.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
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
FEEDBACK_TABLE = "frontdoor-local-feedback"
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


def emulator_endpoints(models: list[dict[str, Any]], first_token_ms: float = 0.0,
                       per_token_ms: float = 0.0) -> list[EndpointConfig]:
    endpoints = []
    for m in models:
        limits = {}
        if m.get("max_input_length") and m.get("max_total_tokens"):
            limits = {"max_input_length": m["max_input_length"], "max_total_tokens": m["max_total_tokens"]}
        endpoints.append(EndpointConfig(m["endpoint_name"], m["family"], first_token_ms=first_token_ms,
                                        per_token_ms=per_token_ms, **limits))
    return endpoints


# -------------------------------------------------------------------- API Gateway


def to_event(method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes,
             source_ip: str = "127.0.0.1", stage: str = "local") -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as a ``{proxy+}`` resource delivers it."""
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
            "identity": {"sourceIp": source_ip, "userAgent": single.get("User-Agent", "")},
        },
        "body": text if body else None,
        "isBase64Encoded": is_b64,
    }


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

    def __init__(self, address: tuple[str, int], handler: Callable[[dict, Any], dict]) -> None:
        super().__init__(address, _ProxyHandler)
        self.lambda_handler = handler
        self.invoke_lock = threading.Lock()

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

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > API_GATEWAY_MAX_BODY:  # API Gateway refuses before the Lambda runs
            self._write(413, [("Content-Type", "application/json")],
                        json.dumps({"message": "Request Too Long"}).encode())
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        event = to_event(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
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

    def _write(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        for key, value in headers:
            if key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle


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
    saved_env: dict[str, str | None] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def restore_env(self) -> None:
        """Put the process environment back; built clients keep their endpoints."""
        for key, value in self.saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self.saved_env.clear()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.emulator.stop()
        if self.moto is not None:
            self.moto.stop()
        self.restore_env()


def _start_moto() -> tuple[Any, str] | None:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        return None
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    return moto, f"http://{host}:{port}"


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


def start_stack(models: list[dict[str, Any]], *, host: str = "127.0.0.1", port: int = 8080,
                first_token_ms: float = 0.0, per_token_ms: float = 0.0, feedback: bool = True,
                extra_templates: list[dict[str, Any]] | None = None,
                extra_env: dict[str, str] | None = None) -> LocalStack:
    """Start emulator, moto (optional) and the front door; returns handles to stop them.

    Sets the process environment the handler reads (MODELS_JSON, endpoints,
    dummy credentials) and builds the handler's clients eagerly, so callers may
    ``restore_env()`` right after without affecting the running stack.
    """
    emulator = Emulator(emulator_endpoints(models, first_token_ms, per_token_ms), host=host).start()
    env = {**LOCAL_ENV, "MODELS_JSON": json.dumps(models),
           "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": emulator.url, **(extra_env or {})}
    if extra_templates is not None:
        env["EXTRA_TEMPLATES_JSON"] = json.dumps(extra_templates)
    moto = None
    if feedback:
        started = _start_moto()
        if started is None:
            print("moto is not installed: POST /v1/feedback will answer 503", file=sys.stderr)
        else:
            moto, moto_url = started
            env["AWS_ENDPOINT_URL_DYNAMODB"] = moto_url
            env["FEEDBACK_TABLE_NAME"] = FEEDBACK_TABLE
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    if moto is not None:
        _create_feedback_table(env["AWS_ENDPOINT_URL_DYNAMODB"])

    lambda_handler = _import_handler()
    from frontdoor import config

    config.reset()
    runtime = config.runtime()
    runtime.invoker.client  # noqa: B018 - build now, while the endpoint env is set
    if runtime.feedback is not None:
        runtime.feedback.client  # noqa: B018
    server = FrontDoorHTTPServer((host, port), lambda_handler)
    threading.Thread(target=server.serve_forever, name="frontdoor-local", daemon=True).start()
    return LocalStack(emulator=emulator, server=server, moto=moto, saved_env=saved)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the front door locally against the SageMaker emulator.")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="deployment config (default: %(default)s)")
    parser.add_argument("--models-json", help="a MODELS_JSON file to use instead of --config")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--first-token-ms", type=float, default=50.0, help="emulated time to first token")
    parser.add_argument("--per-token-ms", type=float, default=0.0, help="emulated time per generated token")
    args = parser.parse_args(argv)
    if args.models_json:
        models = json.loads(Path(args.models_json).read_text())
    else:
        models = models_from_config(args.config)
    stack = start_stack(models, port=args.port, first_token_ms=args.first_token_ms, per_token_ms=args.per_token_ms)
    print(f"front door on {stack.url}  (emulator {stack.emulator.url}); models: "
          f"{', '.join(m['name'] for m in models)}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stack.stop()


if __name__ == "__main__":
    main()
