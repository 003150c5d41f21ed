"""The emulator itself: its endpoints and inference components (copies, scale-out,
scheduled scales), injected faults and the log of calls, behind an HTTP server
(``local.emulator.handler`` answers its requests). Everything a handler thread touches
is under one lock."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict
from http.server import ThreadingHTTPServer
from typing import Any

from local.emulator.api import REGION
from local.emulator.faults import Faults, add_faults, consume_fault
from local.emulator.handler import EmulatorHandler
from local.emulator.models import EndpointConfig


class Emulator:
    """In-process emulator; ``start()`` serves on ``host:port`` (0 = any free port)."""

    def __init__(self, endpoints: list[EndpointConfig] | None = None, host: str = "127.0.0.1", port: int = 0,
                 region: str = REGION) -> None:
        self.region = region
        self._lock = threading.Lock()
        self._endpoints: dict[tuple[str, str | None], EndpointConfig] = {}
        # Each IC's copies and scale-out delay as added: what reset() restores.
        self._initial: dict[tuple[str, str | None], tuple[int, float | None]] = {}
        for cfg in endpoints or []:
            self.add_endpoint(cfg)
        # IC -> when its pending scale-out (after a no-capacity call) completes.
        self._scale_out_at: dict[str, float] = {}
        # IC -> [answered calls still to go, copies then]: a scheduled scale.
        self._scale_after: dict[str, list[int]] = {}
        self._faults: dict[str, Faults] = {}
        self._calls: list[dict[str, Any]] = []
        emulator = self

        class Handler(EmulatorHandler):
            server_emulator = emulator

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="sagemaker-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve on the calling thread (the standalone emulator) instead of ``start()``'s."""
        self._server.serve_forever()

    # -- control
    def add_endpoint(self, cfg: EndpointConfig) -> None:
        with self._lock:
            self._endpoints[cfg.key] = cfg
            self._initial[cfg.key] = (cfg.copies, cfg.scale_out_after_s)

    def remove_endpoint(self, name: str, inference_component: str | None = None) -> EndpointConfig | None:
        with self._lock:
            return self._endpoints.pop((name, inference_component), None)

    def scale(self, inference_component: str, copies: int, *, after_calls: int = 0,
              scale_out_after_s: Any = ...) -> None:
        """Set an IC's copies (0: scaled to zero), now or once ``after_calls`` more calls
        were answered; ``scale_out_after_s`` replaces the IC's (None: no scale-out on its own)."""
        if copies < 0 or after_calls < 0:
            raise ValueError("copies and after_calls must be 0 or more")
        with self._lock:
            cfg = self._component(inference_component)
            if scale_out_after_s is not ...:
                cfg.scale_out_after_s = None if scale_out_after_s is None else float(scale_out_after_s)
            if after_calls:
                self._scale_after[inference_component] = [after_calls, copies]
            else:
                self._set_copies(cfg, copies)

    def _component(self, inference_component: str) -> EndpointConfig:
        for (_, component), cfg in self._endpoints.items():
            if component == inference_component:
                return cfg
        raise ValueError(f"no inference component {inference_component!r}")

    def _set_copies(self, cfg: EndpointConfig, copies: int) -> None:
        cfg.copies = copies
        self._scale_out_at.pop(cfg.inference_component or "", None)
        self._scale_after.pop(cfg.inference_component or "", None)

    def has_capacity(self, cfg: EndpointConfig) -> bool:
        """Whether an IC can take a call now; a call meeting zero copies starts the
        scale-out clock, as it raises NoCapacityInvocationFailures on AWS."""
        ic = cfg.inference_component or ""
        with self._lock:
            if cfg.copies > 0:
                return True
            due = self._scale_out_at.get(ic)
            if due is None:
                if cfg.scale_out_after_s is not None:
                    self._scale_out_at[ic] = time.monotonic() + cfg.scale_out_after_s
                return False
            if time.monotonic() < due:
                return False
            self._set_copies(cfg, 1)
            return True

    def answered(self, cfg: EndpointConfig) -> None:
        """One more call answered by an IC: apply a scale scheduled after N calls."""
        ic = cfg.inference_component
        with self._lock:
            pending = self._scale_after.get(ic or "")
            if pending is not None:
                pending[0] -= 1
                if pending[0] <= 0:
                    self._set_copies(cfg, pending[1])

    def endpoints(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(e) for e in self._endpoints.values()]

    def inject(self, endpoint: str = "*", **faults: Any) -> None:
        """Add faults: counters add up, ``delay_ms`` and ``fail_if_contains`` replace/extend."""
        with self._lock:
            add_faults(self._faults.setdefault(endpoint, Faults()), **faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._calls)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def reset(self) -> None:
        """No faults, no calls, and every IC's copies and scale-out delay as added."""
        self.clear_faults()
        self.clear_calls()
        with self._lock:
            for key, cfg in self._endpoints.items():
                cfg.copies, cfg.scale_out_after_s = self._initial.get(key, (cfg.copies, cfg.scale_out_after_s))
            self._scale_out_at.clear()
            self._scale_after.clear()

    # -- what the handler asks, once per call
    def hosted(self, name: str) -> dict[str | None, EndpointConfig]:
        """The models behind endpoint ``name``, by inference component (None: the endpoint's own)."""
        with self._lock:
            return {ic: cfg for (endpoint, ic), cfg in self._endpoints.items() if endpoint == name}

    def take_fault(self, endpoint: str, body_text: str,
                   component: str | None = None) -> tuple[str | None, float, dict[str, Any] | None]:
        """Consume one configured fault for this call: (fault, extra delay ms, contains-rule)."""
        with self._lock:
            return consume_fault(self._faults, (*((component,) if component else ()), endpoint, "*"), body_text)

    def record(self, call: dict[str, Any]) -> None:
        with self._lock:
            self._calls.append(call)
            del self._calls[:-500]
