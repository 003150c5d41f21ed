"""The emulator's HTTP request handler: the control API (``/_emulator/...``) and
InvokeEndpoint, routed, checked and answered as SageMaker does (the errors of the
package docstring), with the latency model of the endpoint's config; the stream
variant is ``local.emulator.streaming``'s."""

from __future__ import annotations

import json
import re
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any

from local.emulator.api import (ACCOUNT, IC_HEADER, IC_NOT_ALLOWED, IC_REQUIRED, MAX_PAYLOAD_BYTES,
                                NO_CAPACITY_MESSAGE)
from local.emulator.faults import AWS_ERRORS, MODEL_ERROR_BODY, requested_fault
from local.emulator.models import EndpointConfig, ModelErr, invoke
from local.emulator.streaming import StreamResponses


class EmulatorHandler(StreamResponses, BaseHTTPRequestHandler):
    # The local.emulator.server.Emulator this request is for; it sets this, and it imports
    # this module, so the type is not imported back (no cycle).
    server_emulator: Any
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, keep-alive
    # clients wait ~40 ms for a delayed ACK on every call.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read calls() instead
        pass

    # -- plumbing
    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        call = getattr(self, "_call", None)
        if call is not None and "status" not in call:
            call["status"] = status
            call["duration_ms"] = round((time.perf_counter() - self._started) * 1000, 3)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode())

    def _aws_error(self, status: int, code: str, message: str, extra: dict[str, Any] | None = None) -> None:
        body = {"message": message, **(extra or {})}
        self._send(status, json.dumps(body).encode(),
                   {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/com.amazon.sagemaker/"})

    def _model_error(self, cfg: EndpointConfig, status: int, original: str) -> None:
        emu = self.server_emulator
        kind = "client" if status < 500 else "server"
        group = (f"/aws/sagemaker/InferenceComponents/{cfg.inference_component}" if cfg.inference_component
                 else f"/aws/sagemaker/Endpoints/{cfg.name}")
        message = (f'Received {kind} error ({status}) from {cfg.variant} with message "{original}". '
                   f"See https://{emu.region}.console.aws.amazon.com/cloudwatch/home?region={emu.region}"
                   f"#logEventViewer:group={group} in account {ACCOUNT} for more information.")
        self._send(424, json.dumps({
            "ErrorCode": "CLIENT_ERROR_FROM_MODEL" if status < 500 else "SERVER_ERROR_FROM_MODEL",
            "LogStreamArn": f"arn:aws:logs:{emu.region}:{ACCOUNT}:log-group:{group}",
            "Message": message,
            "OriginalMessage": original,
            "OriginalStatusCode": status,
        }).encode(), {"x-amzn-ErrorType": "ModelError:http://internal.amazon.com/coral/com.amazon.sagemaker/"})

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -- routes
    def do_GET(self) -> None:
        emu = self.server_emulator
        if self.path == "/_emulator/health":
            return self._json(200, {"ok": True})
        if self.path == "/_emulator/endpoints":
            return self._json(200, emu.endpoints())
        if self.path == "/_emulator/calls":
            return self._json(200, emu.calls())
        self._json(404, {"message": "not found"})

    def do_DELETE(self) -> None:
        emu = self.server_emulator
        if self.path == "/_emulator/faults":
            emu.clear_faults()
            return self._json(200, {"ok": True})
        if self.path == "/_emulator/calls":
            emu.clear_calls()
            return self._json(200, {"ok": True})
        self._json(404, {"message": "not found"})

    def do_POST(self) -> None:
        emu = self.server_emulator
        self._call = None  # handler instances live across keep-alive requests
        raw = self._read_body()
        if self.path.startswith("/_emulator/"):
            try:
                data = json.loads(raw or b"{}")
                if self.path == "/_emulator/endpoints":
                    emu.add_endpoint(EndpointConfig(**data))
                elif self.path == "/_emulator/components":
                    options = {k: data[k] for k in ("after_calls", "scale_out_after_s") if k in data}
                    emu.scale(data["inference_component"], int(data["copies"]), **options)
                elif self.path == "/_emulator/faults":
                    emu.inject(data.pop("endpoint", "*"), **data)
                elif self.path == "/_emulator/reset":
                    emu.reset()
                else:
                    return self._json(404, {"message": "not found"})
            except (ValueError, TypeError, KeyError) as exc:
                return self._json(400, {"message": str(exc)})
            return self._json(200, {"ok": True})
        match = re.fullmatch(r"/endpoints/([^/]+)/invocations(-response-stream)?", self.path.split("?")[0])
        if not match:
            return self._aws_error(404, "UnknownOperationException", "Unknown operation")
        self._streaming = match.group(2) is not None  # InvokeEndpointWithResponseStream
        self._invoke(match.group(1), raw)

    def _invoke(self, name: str, raw: bytes) -> None:
        emu = self.server_emulator
        started = time.perf_counter()
        content_type = self.headers.get("Content-Type", "application/octet-stream")
        accept = self.headers.get("Accept", "application/json")
        if getattr(self, "_streaming", False):  # InvokeEndpointWithResponseStream's Accept header
            accept = self.headers.get("X-Amzn-SageMaker-Accept", accept)
        text = raw.decode("utf-8", "replace")
        call: dict[str, Any] = {"endpoint": name, "content_type": content_type, "accept": accept,
                                "body": _maybe_json(text)}
        if self.headers.get(IC_HEADER):
            call["inference_component"] = self.headers[IC_HEADER]
        # Recorded on arrival and completed in _send, before the reply leaves: a test
        # that has its reply always sees its call, and a slow call (a client that
        # timed out) cannot land in the log of a later test after its reset.
        self._call, self._started = call, started
        emu.record(call)
        self._dispatch(name, raw, text, accept)

    def _dispatch(self, name: str, raw: bytes, text: str, accept: str) -> int:
        component = self.headers.get(IC_HEADER)
        target = self._target(name, raw, component)
        if isinstance(target, str):
            self._aws_error(400, "ValidationError", target)
            return 400
        faulted = self._answer_fault(name, text, target, component)
        if faulted is not None:
            return faulted
        if getattr(self, "_streaming", False):  # InvokeEndpointWithResponseStream: StreamResponses
            return self._stream(target, raw, component)
        return self._answer(target, raw, accept, component)

    def _target(self, name: str, raw: bytes, component: str | None) -> EndpointConfig | str:
        """The model this call reaches, or the message of the ValidationError (400) SageMaker
        refuses it with. A call meeting an IC at zero copies starts its scale-out clock."""
        emu = self.server_emulator
        if len(raw) > MAX_PAYLOAD_BYTES:
            return f"Request payload size {len(raw)} exceeds {MAX_PAYLOAD_BYTES}"
        hosted = emu.hosted(name)
        if not hosted:
            return f"Endpoint {name} of account {ACCOUNT} not found."
        shared = any(ic is not None for ic in hosted)
        if shared and not component:
            return IC_REQUIRED
        if component and not shared:
            return IC_NOT_ALLOWED
        cfg = hosted.get(component)
        if cfg is None:  # the emulator's own wording: an IC this endpoint does not host
            return f"Inference Component {component} not found on endpoint {name}."
        if component and not emu.has_capacity(cfg):
            return NO_CAPACITY_MESSAGE
        return cfg

    def _answer_fault(self, name: str, text: str, cfg: EndpointConfig, component: str | None) -> int | None:
        """Wait out the injected delay, then answer the injected fault (configured, or asked
        for by the request) if there is one: its status; None: the call goes on."""
        fault, delay_ms, rule = self.server_emulator.take_fault(name, text, component)
        requested, requested_delay_ms = requested_fault(self.headers.get("x-emulator-fault"), text)
        fault, delay_ms = fault or requested, delay_ms + requested_delay_ms
        if delay_ms:
            time.sleep(delay_ms / 1000)
        if fault in AWS_ERRORS:
            status, code, message = AWS_ERRORS[fault]
            self._aws_error(status, code, message.format(endpoint=name))
            return status
        if fault == "model-error":
            self._model_error(cfg, 500, MODEL_ERROR_BODY)
            return 424
        if fault == "contains" and rule is not None:
            self._model_error(cfg, int(rule.get("status", 500)), str(rule.get("message", "injected failure")))
            return 424
        return None

    def _answer(self, cfg: EndpointConfig, raw: bytes, accept: str, component: str | None) -> int:
        """The container's answer, sent after the latency model's time for it."""
        try:
            body, tokens = invoke(cfg, raw, accept, self.headers.get("Content-Type", "application/json"))
        except ModelErr as err:
            self._model_error(cfg, err.status, err.body)
            return 424
        latency = cfg.first_token_ms + cfg.per_token_ms * tokens
        if latency:
            time.sleep(latency / 1000)
        if component:
            self.server_emulator.answered(cfg)
        self._send(200, body, {"x-Amzn-Invoked-Production-Variant": cfg.variant})
        return 200


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
