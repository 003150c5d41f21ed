"""InvokeEndpointWithResponseStream: POST /endpoints/{name}/invocations-response-stream,
answered in the AWS event stream encoding (``local.emulator.eventstream``).

TGI's stream inside the parts (text-generation-inference ``generate_stream``): one
``data:{StreamResponse}`` line per token plus a blank line; the last carries
``generated_text`` (the buffered answer's text, ``tgi_invoke``'s) and ``details``; TGI's
own failures -- input validation included -- are ``data:{"error", "error_type"}`` lines
in a 200 stream. Each token's bytes are cut into 1-3 payload parts at random byte offsets
(inside a UTF-8 character too), and from the second token on a part's tail sometimes waits
for the next token's bytes: the boundaries SageMaker may put anywhere. Token i goes out ``first_token_ms +
i * per_token_ms`` after the request. Faults, by marker in the body or the
``x-emulator-fault`` header: ``stream-error=N`` (ModelStreamError StreamBroken after N
tokens), ``stream-internal=N`` (InternalStreamFailure), ``generation-error=N`` (TGI's
in-stream ``generation`` error), ``stream-timeout=N`` (ModelStreamError
ModelInvocationTimeExceeded).
"""

from __future__ import annotations

import json
import time
import uuid

from local.emulator.eventstream import EVENTSTREAM, payload_part, split_parts, sse_line, stream_exception
from local.emulator.faults import requested_stream_fault
from local.emulator.generation import seeded_rng
from local.emulator.models import TGI_FAMILIES, EndpointConfig, ModelErr, tgi_invoke, tgi_stream_events


class StreamResponses:
    """InvokeEndpointWithResponseStream for ``EmulatorHandler`` (see this module's docstring)."""

    def _stream(self, cfg: EndpointConfig, raw: bytes, component: str | None) -> int:
        emu = self.server_emulator  # type: ignore[attr-defined]
        if cfg.family not in TGI_FAMILIES:
            # The container answers InvokeEndpoint only: SageMaker refuses the stream.
            self._aws_error(400, "ValidationError",  # type: ignore[attr-defined]
                            f"Model container for endpoint {cfg.name} does not support streaming responses.")
            return 400
        try:
            streaming, lines = _stream_lines(cfg, raw)
        except ModelErr as err:
            self._model_error(cfg, err.status, err.body)  # type: ignore[attr-defined]
            return 424
        if not lines:
            self._model_error(cfg, 422, "Failed to deserialize the JSON body into the target type")  # type: ignore[attr-defined]
            return 424
        text = raw.decode("utf-8", "replace")
        fault, fail_after = requested_stream_fault(self.headers.get("x-emulator-fault"), text)  # type: ignore[attr-defined]
        call = getattr(self, "_call", None)
        if call is not None:
            call.update(status=200, stream=True)
        self._start_event_stream(cfg, streaming)
        try:
            self._send_lines(cfg, lines, text, fault, fail_after)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away: stop generating
        if call is not None:
            call["duration_ms"] = round((time.perf_counter() - self._started) * 1000, 3)  # type: ignore[attr-defined]
        if component:
            emu.answered(cfg)
        return 200

    def _start_event_stream(self, cfg: EndpointConfig, streaming: bool) -> None:
        """The 200 and its headers: an event stream, chunked, of TGI's SSE or of its JSON answer."""
        self.send_response(200)  # type: ignore[attr-defined]
        for name, value in (("Content-Type", EVENTSTREAM), ("Transfer-Encoding", "chunked"),
                            ("x-amzn-RequestId", str(uuid.uuid4())),
                            ("X-Amzn-SageMaker-Content-Type", "text/event-stream" if streaming else "application/json"),
                            ("x-Amzn-Invoked-Production-Variant", cfg.variant)):
            self.send_header(name, value)  # type: ignore[attr-defined]
        self.end_headers()  # type: ignore[attr-defined]

    def _send_lines(self, cfg: EndpointConfig, lines: list[bytes], text: str, fault: str,
                    fail_after: int | None) -> None:
        """The lines as payload parts on the token clock (the module docstring), then the
        last chunk; the requested mid-stream fault instead of line ``fail_after`` on."""
        rng = seeded_rng("stream-parts", text)
        started = time.perf_counter()
        carried = b""
        for i, line in enumerate(lines):
            if fail_after is not None and i >= fail_after:
                self._stream_fault(fault, carried)
                carried = b""
                break
            due = started + (cfg.first_token_ms + i * cfg.per_token_ms) / 1000
            if due > time.perf_counter():
                time.sleep(due - time.perf_counter())
            parts = split_parts(carried + line, rng)
            carried = b""
            if 0 < i < len(lines) - 1 and len(parts) > 1 and rng.random() < 0.25:
                carried = parts.pop()  # the tail waits for the next token's bytes (never the first's)
            for part in parts:
                self._chunk(payload_part(part))
        if carried:
            self._chunk(payload_part(carried))
        self.wfile.write(b"0\r\n\r\n")  # type: ignore[attr-defined]

    def _stream_fault(self, fault: str, carried: bytes) -> None:
        if carried:
            self._chunk(payload_part(carried))
        if fault == "generation-error":
            self._chunk(payload_part(sse_line({"error": "Request failed during generation: Server error: CUDA out of "
                                                        "memory", "error_type": "generation"})))
        elif fault == "stream-internal":
            self._chunk(stream_exception("InternalStreamFailure", "Internal stream failure"))
        elif fault == "stream-timeout":
            self._chunk(stream_exception("ModelStreamError", "Your model primary did not complete sending the "
                                         "inference response in the allotted time.", "ModelInvocationTimeExceeded"))
        else:
            self._chunk(stream_exception("ModelStreamError", "Your model primary stream was broken.", "StreamBroken"))

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))  # type: ignore[attr-defined]
        self.wfile.flush()  # type: ignore[attr-defined]


def _stream_lines(cfg: EndpointConfig, raw: bytes) -> tuple[bool, list[bytes]]:
    """What TGI sends for ``raw``: (whether the request asked for a stream, its lines: the SSE
    events, or the JSON answer in one part); no lines when ``raw`` is no JSON."""
    try:
        payload = json.loads(raw)
        streaming = isinstance(payload, dict) and payload.get("stream") is True
        if streaming:
            return True, [sse_line(e) for e in tgi_stream_events(cfg, raw)]
        # TGI answers a request without "stream": true with its JSON, in one part
        return False, [tgi_invoke(cfg, raw)[0]]
    except ValueError:
        return False, []
