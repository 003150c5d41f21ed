"""CLI: python -m tools.report (see tools/report/__init__.py)."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from stacks.config import ConfigError
from tools.report import build, write_report

REPO = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.report", description=__doc__)
    parser.add_argument("--config", default=None, help="deployment config (default: the embedded default)")
    parser.add_argument("--assembly", default="cdk.out", type=Path, help="synthesized cloud assembly")
    parser.add_argument("--out", default=None, type=Path, help="output folder (default: <assembly>/report)")
    parser.add_argument("--docs", action="store_true", help="also write docs/architecture.{png,svg}")
    parser.add_argument("--no-picture", action="store_true", help="skip the architecture picture")
    args = parser.parse_args(argv)
    out = args.out or args.assembly / "report"
    try:
        report = build(args.assembly, args.config)
    except (FileNotFoundError, ConfigError) as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    written = write_report(report, out, picture=None if args.no_picture else "architecture.png")
    # Usage per tenant this month (tools/usage_report.py): a table for a deployed tenant_keys API,
    # else one line saying why there is none; it never needs AWS to render.
    from datetime import datetime, timezone

    from tools.reaper_report import section as reaper_section
    from tools.usage_report import section

    now = datetime.now(timezone.utc)
    with written[0].open("a") as md:
        md.write("\n" + "\n".join(section(args.config, now.strftime("%Y-%m"))) + "\n")
        # Notebook endpoints the Studio reaper would delete (tools/reaper_report.py): read from the
        # deployed account, or one line saying it needs credentials.
        md.write("\n" + "\n".join(reaper_section(args.config, now)) + "\n")
    if not args.no_picture:
        # Imported here: matplotlib is the slow part and --no-picture skips it.
        from tools.report.diagram import draw

        written += draw(args.assembly, out, report)
        if args.docs:
            for path in written[-2:]:
                shutil.copyfile(path, REPO / "docs" / path.name)
                written.append(REPO / "docs" / path.name)
    for path in written:
        print(f"wrote {path}")
    for warning in report["warnings"]:
        print(f"WARNING: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
