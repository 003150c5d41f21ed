"""CLI: python -m tools.report.diagram (see tools/report/diagram/__init__.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tools.report import diagram
from tools.report.diagram.drawing import draw


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tools.report.diagram", description=diagram.__doc__.splitlines()[0]
    )
    parser.add_argument("--assembly", default="cdk.out", type=Path)
    parser.add_argument("--out", default=None, type=Path)
    args = parser.parse_args(argv)
    for path in draw(args.assembly, args.out or args.assembly / "report"):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
