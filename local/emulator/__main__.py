"""The standalone emulator: ``python -m local.emulator --port 8081 --endpoint falcon:falcon``
(``--help`` for the rest)."""

from __future__ import annotations

import argparse

import local.emulator
from local.emulator.models import EndpointConfig
from local.emulator.server import Emulator


def _parse_endpoint(spec: str) -> EndpointConfig:
    """``name:family[:max_input_length:max_total_tokens]``."""
    parts = spec.split(":")
    if len(parts) not in (2, 4):
        raise argparse.ArgumentTypeError("use name:family or name:family:max_input:max_total")
    limits = {"max_input_length": int(parts[2]), "max_total_tokens": int(parts[3])} if len(parts) == 4 else {}
    return EndpointConfig(parts[0], parts[1], **limits)


def _parse_component(spec: str) -> EndpointConfig:
    """``endpoint:component:family[:max_input_length:max_total_tokens]``."""
    endpoint, _, rest = spec.partition(":")
    component, _, rest = rest.partition(":")
    if not endpoint or not component or not rest:
        raise argparse.ArgumentTypeError("use endpoint:component:family[:max_input:max_total]")
    cfg = _parse_endpoint(f"{endpoint}:{rest}")
    cfg.inference_component = component
    return cfg


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=local.emulator.__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--endpoint", action="append", type=_parse_endpoint, default=[],
                        help="name:family[:max_input_length:max_total_tokens]; repeatable")
    parser.add_argument("--component", action="append", type=_parse_component, default=[],
                        help="endpoint:component:family[:max_input_length:max_total_tokens]: an inference "
                             "component on a shared endpoint; repeatable")
    parser.add_argument("--copies", type=int, default=1, help="initial copies of each inference component")
    parser.add_argument("--scale-out-after-s", type=float, default=None,
                        help="an inference component at 0 copies has 1 this long after a call met no capacity")
    parser.add_argument("--first-token-ms", type=float, default=0.0)
    parser.add_argument("--per-token-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    for ep in (*args.endpoint, *args.component):
        ep.first_token_ms, ep.per_token_ms = args.first_token_ms, args.per_token_ms
    for ep in args.component:
        ep.copies, ep.scale_out_after_s = args.copies, args.scale_out_after_s
    emulator = Emulator([*args.endpoint, *args.component], host=args.host, port=args.port)
    print(f"SageMaker runtime emulator on {emulator.url} endpoints={[e.name for e in args.endpoint]} "
          f"components={[f'{e.name}/{e.inference_component}' for e in args.component]}", flush=True)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
