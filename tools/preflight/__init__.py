"""Read-only checks against the operator's AWS account before `cdk deploy`.

    python -m tools.preflight --config config/default.yaml [--region eu-west-1]

Prints a table (check, subject, PASS/WARN/FAIL/SKIP, detail; the fix under each non-PASS
row) and a summary line. Exit 0: no FAIL; 1: a FAIL; 2: cannot run (no credentials, no
network, bad config). Only List/Describe/Get/Head/Search calls; tested with botocore's Stubber.

Modules: results (Result, how AWS errors become results), capacity (instance quotas, Lambda
concurrency), account (bootstrap, leftovers, imported VPC), models (artifacts, Marketplace
packages), runner (clients, assembly facts, the order of the checks), cli (table, summary, exit).
"""

from __future__ import annotations

from tools.preflight.account import (STUCK, TOOLKIT_STACK, check_bootstrap, check_leftover_stacks, check_network,
                                     check_waf_log_group, live_stacks)
from tools.preflight.capacity import (LAMBDA_HEADROOM, check_endpoint_quotas, check_lambda_concurrency,
                                      instances_needed)
from tools.preflight.cli import format_table, main, summary
from tools.preflight.models import NOT_SUBSCRIBED, check_artifacts, check_marketplace_packages
from tools.preflight.results import BAD_CREDENTIALS, NO_CREDENTIALS, CannotRun, Result, guarded
from tools.preflight.runner import (CLIENT_REGIONS, CLIENTS, DEFAULT_MIN_BOOTSTRAP, STACK_SUFFIXES, read_assembly, run,
                                    run_checks)

__all__ = [
    "BAD_CREDENTIALS", "CLIENTS", "CLIENT_REGIONS", "DEFAULT_MIN_BOOTSTRAP", "LAMBDA_HEADROOM", "NOT_SUBSCRIBED",
    "NO_CREDENTIALS", "STACK_SUFFIXES", "STUCK", "TOOLKIT_STACK", "CannotRun", "Result", "check_artifacts",
    "check_bootstrap", "check_endpoint_quotas", "check_lambda_concurrency", "check_leftover_stacks",
    "check_marketplace_packages", "check_network", "check_waf_log_group", "format_table", "guarded",
    "instances_needed", "live_stacks", "main", "read_assembly", "run", "run_checks", "summary",
]
