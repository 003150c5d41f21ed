"""CLI: python -m tools.preflight (see tools/preflight/__init__.py)."""

import sys

from tools.preflight.cli import main

if __name__ == "__main__":
    sys.exit(main())
