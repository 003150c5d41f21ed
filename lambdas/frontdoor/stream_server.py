"""The streaming function: token streams over HTTP, behind the AWS Lambda Web Adapter.

A Python Lambda function cannot stream its response through the managed runtime (only
Node.js managed runtimes can, "Response streaming for Lambda functions"); the AWS Lambda
Web Adapter can: it runs as the function's runtime (``AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap``
execs the handler, ``frontdoor/stream.sh``, which starts this server), turns each API
Gateway event into an HTTP request to ``127.0.0.1:8080`` (the request context in the
``x-amzn-request-context`` header, the Lambda context in ``x-amzn-lambda-context``) and,
with ``AWS_LWA_INVOKE_MODE=response_stream``, streams this server's response back as the
invocation's response stream (aws/aws-lambda-web-adapter, docs/guide: "Zip Packages",
"Response Streaming", "Request & Lambda Context"). ``local.serve`` runs the same server
behind its stand-in for API Gateway.

Routes (the OpenAPI document's, ``frontdoor.routes.generation_stream``): ``POST /v1/generate/stream``
and ``POST /v1/templates/{name}/stream``. The same guards (``frontdoor.guards``: body cap,
JSON media type), the same request models validated the same way as the Powertools
resolver validates them (strict, ``loc``/``type``/``msg`` details), the same preparation
(``TextService.prepare_generate`` / ``prepare_template``: family prompt format, tag
refusal, template rendering, parameter rules) and the same error bodies and statuses
(``frontdoor.errors``). Nothing is sent until the model's first token: every failure
before it is an ordinary JSON error answer; after it, an ``error`` event
(``services.token_stream``). Standard library only (and what the front door already
uses): ``http.server``, chunked transfer encoding.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import threading
import time
import uuid
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from frontdoor import context, guards
from frontdoor.stream_http import (  # noqa: F401 - tests import these from here
    JSON_HEADERS,
    SSE_HEADERS,
    Answer,
    RequestInvalid,
    adapter,
    json_answer,
    no_route,
    validate_body,
    validate_template_name,
)
from frontdoor.errors import (
    INTERNAL_ERROR_MESSAGE,
    SCHEMA_MISMATCH_MESSAGE,
    error_body,
    status_of,
)
from frontdoor.tenancy import metered
from frontdoor.tenancy import tenant_of_request_context as tenant_of
from inference.catalog import VISIBLE
from inference.errors import InferenceError
from inference.observability import logger, metrics

PORT = 8080  # AWS_LWA_PORT's default
HEALTH_PATH = "/_health"  # AWS_LWA_READINESS_CHECK_PATH (never routed by API Gateway)
# The streaming function's timeout (stacks/constructs/frontdoor.py); the stream ends with a
# model_timeout event this long before it, so the caller hears why.
FUNCTION_TIMEOUT_S = 300.0
DEADLINE_MARGIN_S = 5.0
_GENERATE = re.compile(r"^/v1/generate/stream$")
# OpenAI's text routes (``services.openai_serve``): streamed or not, as the body asks.
OPENAI_TEXT_PATHS = ("/v1/chat/completions", "/v1/completions")
_TEMPLATE = re.compile(r"^/v1/templates/([^/]+)/stream$")
_metrics_lock = threading.Lock()


class StreamApp:
    """The routes, independent of the HTTP server (tests call ``handle`` directly).

    ``runtime``: ``frontdoor.config.Runtime`` (catalog, templates, text preparation, waker);
    ``invoker``: anything with ``invoke_stream`` (default: a SageMaker runtime client for
    the catalog's models whose read timeout suits a stream, sharing the runtime's waker).
    """

    def __init__(self, runtime: Any = None, invoker: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._runtime = runtime
        self._invoker = invoker
        self.clock = clock

    @cached_property
    def runtime(self) -> Any:
        if self._runtime is None:
            from frontdoor.config import runtime

            self._runtime = runtime()
        return self._runtime

    @cached_property
    def invoker(self) -> Any:
        if self._invoker is None:
            from inference.runtime import STREAM_READ_TIMEOUT_S, SageMakerRuntime

            self._invoker = SageMakerRuntime.for_models(self.runtime.catalog.models, waker=self.runtime.waker,
                                                        read_timeout_s=STREAM_READ_TIMEOUT_S, logger=logger)
        return self._invoker

    def warm(self) -> StreamApp:
        """Import and build now (the init phase is free of the first request's latency)."""
        from frontdoor.models.chat import ChatCompletionRequest, CompletionRequest
        from frontdoor.models.streams import GenerateStreamRequest, TemplateRunStreamRequest

        for model in (GenerateStreamRequest, TemplateRunStreamRequest, ChatCompletionRequest, CompletionRequest):
            adapter(model)
        self.invoker.client  # noqa: B018 - boto3 and the client, built once
        return self

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes,
               deadline: float | None = None) -> Answer:
        """One request; ``headers`` lower-cased. Sets nothing outside ``context``."""
        started = self.clock()
        text, b64 = _body_text(body)
        event = {"httpMethod": method, "path": path, "headers": dict(headers), "body": text,
                 "isBase64Encoded": b64}
        event, refused = guards.screen(event)
        if refused is not None:
            return Answer(refused["statusCode"], list(JSON_HEADERS), refused["body"].encode())
        if method == "POST" and path in OPENAI_TEXT_PATHS:
            return _serve_openai(self, path, headers, event["body"], deadline, started)
        try:
            if method != "POST":
                return no_route(method, path)
            if _GENERATE.match(path):
                from frontdoor.models.streams import GenerateStreamRequest

                request = validate_body(GenerateStreamRequest, event["body"])
                prepare = lambda: self.runtime.text.prepare_generate(  # noqa: E731
                    request.model, request.inputs, request.parameters.given(), system=request.system)
            elif match := _TEMPLATE.match(path):
                from urllib.parse import unquote

                from frontdoor.models.streams import TemplateRunStreamRequest

                errors: list[dict[str, Any]] = []
                try:
                    name = validate_template_name(unquote(match.group(1)))
                except RequestInvalid as exc:
                    errors += exc.details
                try:
                    request = validate_body(TemplateRunStreamRequest, event["body"])
                except RequestInvalid as exc:
                    if exc.code == "invalid_json":
                        raise
                    errors += exc.details
                if errors:
                    raise RequestInvalid("validation_error", SCHEMA_MISMATCH_MESSAGE, errors)
                prepare = lambda: self.runtime.text.prepare_template(  # noqa: E731
                    name, request.model, request.variables, request.parameters.given())
            else:
                return no_route(method, path)
            call = prepare()
            stream = metered(tenant_of(headers), call, lambda: _open_stream(self, call, request.candidates))
        except RequestInvalid as exc:
            return json_answer(400, error_body(exc.code, exc.message, exc.details))
        except InferenceError as exc:
            status = status_of(exc)
            logger.warning("request failed", extra={"error": exc.code, "status": status, "reason": exc.message})
            return json_answer(status, error_body(exc.code, exc.message, exc.details), exc.retry_after)
        except Exception:  # noqa: BLE001 - a bug of ours: logged in full, answered as every route does
            logger.exception("unexpected error")
            return json_answer(500, error_body("internal_error", INTERNAL_ERROR_MESSAGE))
        limit = deadline - DEADLINE_MARGIN_S if deadline is not None else started + FUNCTION_TIMEOUT_S - DEADLINE_MARGIN_S
        answer = Answer(200, list(SSE_HEADERS), chunks=stream.chunks(deadline=limit))
        answer.log = {"stream": stream}
        return answer


def _open_stream(app: StreamApp, call: Any, candidates: int | None) -> Any:
    from frontdoor.services.token_stream import open_stream

    return open_stream(call, app.invoker, candidates, clock=app.clock)


def _serve_openai(app: StreamApp, path: str, headers: dict[str, str], body: str | None, deadline: float | None,
                  started: float) -> Answer:
    from frontdoor.openai_stream_routes import serve_openai

    limit = deadline - DEADLINE_MARGIN_S if deadline is not None else started + FUNCTION_TIMEOUT_S - DEADLINE_MARGIN_S
    return serve_openai(app, path, headers, body, limit)


def _body_text(body: bytes) -> tuple[str | None, bool]:
    """The body as API Gateway puts it in a proxy event: text, or base64 when it is not UTF-8."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode(), True


def request_id(headers: dict[str, str]) -> str:
    """API Gateway's request id from the Web Adapter's ``x-amzn-request-context`` header (as
    every buffered answer carries it), else the Lambda request id, else a new one (local)."""
    for name, key in (("x-amzn-request-context", "requestId"), ("x-amzn-lambda-context", "request_id")):
        try:
            value = json.loads(headers.get(name) or "{}").get(key)
        except (ValueError, AttributeError):
            value = None
        if isinstance(value, str) and value:
            return value
    return str(uuid.uuid4())


def lambda_deadline(headers: dict[str, str], clock: Callable[[], float] = time.monotonic) -> float | None:
    """The invocation's deadline (``x-amzn-lambda-context``'s ``deadline``, epoch ms) on ``clock``."""
    try:
        deadline_ms = json.loads(headers.get("x-amzn-lambda-context") or "{}").get("deadline")
    except (ValueError, AttributeError):
        return None
    if not isinstance(deadline_ms, (int, float)):
        return None
    return clock() + (deadline_ms / 1000 - time.time())


class _Handler(BaseHTTPRequestHandler):
    server: StreamServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # each event is its own small write

    def log_message(self, format: str, *args: Any) -> None:  # the app logs each request itself
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):  # the adapter (or a local client) closed a kept-alive connection
            pass

    def do_GET(self) -> None:
        if self.path == HEALTH_PATH:
            self._send(Answer(200, list(JSON_HEADERS), b'{"ok":true}'))
            return
        token = context.request_id.set(request_id({}))  # no request context on a GET: a new id
        try:
            self._send(no_route("GET", self.path))
        finally:
            context.request_id.reset(token)

    def do_POST(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = int(headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        rid = request_id(headers)
        token = context.request_id.set(rid)
        # A tenant (api.auth: tenant_keys) sees only its tier's models (inference.catalog.VISIBLE).
        tenant = tenant_of(headers)
        visible = VISIBLE.set(tenant.models if tenant is not None else None)
        try:
            answer = self.server.app.handle("POST", self.path.split("?", 1)[0], headers, body,
                                            lambda_deadline(headers, self.server.app.clock))
            answer.headers.append(("x-request-id", rid))
            self._send(answer)
        finally:
            context.request_id.reset(token)
            VISIBLE.reset(visible)

    def _send(self, answer: Answer) -> None:
        if answer.chunks is None:
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
            return
        stream = answer.log.get("stream")
        try:  # a stream is closed (and its tenant charged) even if the caller left before its headers
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in answer.chunks:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):  # the caller went away: stop the model too
            self.close_connection = True
        except Exception:  # noqa: BLE001 - already reported in the stream (services.token_stream)
            logger.exception("stream failed")
            self.close_connection = True
        finally:
            if stream is not None:
                stream.close()
                _record(stream.outcome)


def _record(outcome: Any) -> None:
    """One log line per stream and its metrics (time to first token, whole stream)."""
    logger.info("stream finished", extra={"first_event_ms": round(outcome.first_event_ms or 0, 1),
                                          "total_ms": round(outcome.total_ms, 1), "token_events": outcome.tokens,
                                          "finish_reason": outcome.finish_reason, "error": outcome.error})
    from aws_lambda_powertools.metrics import MetricUnit

    with _metrics_lock:  # one Metrics object for the process; flushed per stream
        metrics.add_metric(name="TimeToFirstToken", unit=MetricUnit.Milliseconds, value=outcome.first_event_ms or 0)
        metrics.add_metric(name="StreamDuration", unit=MetricUnit.Milliseconds, value=outcome.total_ms)
        if outcome.error:
            metrics.add_metric(name="StreamErrors", unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()


class StreamServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: StreamApp) -> None:
        super().__init__(address, _Handler)
        self.app = app

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def serve(host: str = "127.0.0.1", port: int = PORT, app: StreamApp | None = None) -> StreamServer:
    """A started server (its own thread); ``port`` 0 picks a free one."""
    server = StreamServer((host, port), app or StreamApp())
    threading.Thread(target=server.serve_forever, name="frontdoor-stream", daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The front door's streaming routes over HTTP.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("AWS_LWA_PORT") or PORT))
    args = parser.parse_args(argv)
    app = StreamApp().warm()  # a bad MODELS_JSON fails here, in the init phase (the readiness check never passes)
    server = StreamServer((args.host, args.port), app)
    logger.info("streaming server ready", extra={"port": args.port})
    server.serve_forever()


if __name__ == "__main__":
    main()
