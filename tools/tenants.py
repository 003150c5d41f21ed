"""Manage the tenants of a deployment in `api.auth: tenant_keys` mode (docs/tenants.md).

    python -m tools.tenants [--config config/examples/tenants.yaml] create acme --tier standard
    python -m tools.tenants list [--tenant acme] [--json]
    python -m tools.tenants rotate acme         # new key and API key; the old key is revoked
    python -m tools.tenants revoke acme [--key-id key-...]
    python -m tools.tenants move acme --tier enterprise
    python -m tools.tenants --local create demo --tier free   # against `make serve`
    (make tenant ARGS="create acme --tier standard" [CONFIG=...])

`create` and `rotate` print the new key ONCE on stdout (nothing stores it; keep it in a
secret store), everything else goes to stderr. `list` never shows a key, its hash or the
API key value: key id, tenant, tier, status, dates and the key's first 7 characters.

Where the tenants live: the Api stack's CloudFormation outputs (TenantKeysTable,
TenantUsagePlans) of `--stack` (default: `<project_name>-api` of `--config`), or explicit
`--keys-table` and `--usage-plans '{"tier": "<usage plan id>"}'`, or `--local`: the state
`make serve` writes to .cache/local-tenants.json for its moto server. A revoked key keeps
working until the authorizer cache entry expires (api.tenants.cache_ttl_seconds).
Needs dynamodb:Scan/GetItem/PutItem/UpdateItem on the keys table (and its KMS key) and
apigateway:POST/DELETE on API keys and usage plans.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from tools.tenant_admin import Resources, TenantAdmin, TenantError


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tools.tenants", description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--local", action="store_true", help="the local stack of `make serve`")
    where.add_argument("--stack", help="the Api stack's name (default: <project_name>-api of --config)")
    where.add_argument("--keys-table", help="the keys table (with --usage-plans)")
    parser.add_argument("--config", default="config/default.yaml", help="deployment config (for the stack name)")
    parser.add_argument("--usage-plans", help="JSON {tier: usage plan id} (with --keys-table)")
    parser.add_argument("--region", help="AWS region (default: the config's)")
    parser.add_argument("--endpoint-url", help="AWS endpoint (e.g. a moto server), with --keys-table")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="a new tenant and its key (printed once)")
    create.add_argument("tenant")
    create.add_argument("--tier", required=True)
    listing = commands.add_parser("list", help="key records (never keys or hashes)")
    listing.add_argument("--tenant")
    listing.add_argument("--json", action="store_true")
    rotate = commands.add_parser("rotate", help="a new key for the tenant; its old keys are revoked")
    rotate.add_argument("tenant")
    revoke = commands.add_parser("revoke", help="revoke the tenant's keys (or one)")
    revoke.add_argument("tenant")
    revoke.add_argument("--key-id")
    move = commands.add_parser("move", help="move the tenant to another tier (usage plan)")
    move.add_argument("tenant")
    move.add_argument("--tier", required=True)
    return parser.parse_args(argv)


def resources(args: argparse.Namespace) -> Resources:
    if args.local:
        return Resources.local()
    if args.keys_table:
        if not args.usage_plans:
            raise TenantError("--keys-table needs --usage-plans '{\"tier\": \"<usage plan id>\"}'")
        return Resources(args.keys_table, json.loads(args.usage_plans), region=args.region,
                         endpoint_url=args.endpoint_url)
    from stacks.config import load_config, stack_name

    config = load_config(args.config)
    if config.api.auth != "tenant_keys":
        raise TenantError(f"{args.config}: api.auth is {config.api.auth!r}, not 'tenant_keys'")
    region = args.region or config.region
    return Resources.from_stack(args.stack or stack_name(config, "api"), region)


def run(args: argparse.Namespace, admin: TenantAdmin, out: TextIO, err: TextIO) -> int:
    if args.command in ("create", "rotate"):
        key, record = admin.create(args.tenant, args.tier) if args.command == "create" else admin.rotate(args.tenant)
        print(f"{args.command}d {record.key_id} for tenant {record.tenant} (tier {record.tier}); "
              "the key follows, shown this once:", file=err)
        print(key, file=out)
    elif args.command == "list":
        rows = [r.public() for r in admin.records(args.tenant)]
        if args.json:
            print(json.dumps(rows, indent=2), file=out)
        else:
            print(table(rows), file=out)
    elif args.command == "revoke":
        for record in admin.revoke(args.tenant, args.key_id):
            print(f"revoked {record.key_id} of tenant {record.tenant}; it works until the authorizer's "
                  "cached answer expires (api.tenants.cache_ttl_seconds)", file=err)
    else:
        moved = admin.move(args.tenant, args.tier)
        print(f"moved {len(moved)} key(s) of tenant {args.tenant} to tier {args.tier}", file=err)
    return 0


COLUMNS = ("tenant", "tier", "status", "key_id", "key_prefix", "created", "revoked")


def table(rows: list[dict]) -> str:
    if not rows:
        return "no tenants"
    cells = [COLUMNS, *[tuple(str(r.get(c) or "-") for c in COLUMNS) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells)


def main(argv: list[str] | None = None, admin: TenantAdmin | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args, admin or TenantAdmin(resources(args)), sys.stdout, sys.stderr)
    except TenantError as refused:
        print(f"tenants: {refused}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
