"""Refresh the pinned prices in config/catalog/instances.yaml from the AWS Price List API.

    python -m tools.pricing [--region us-east-1] [--dry-run] [--allow-missing]

Asks `pricing:GetProducts` (service AmazonSageMaker, product family "ML Instance",
component "Hosting" = real-time inference, one region) for on-demand hourly USD
prices of the instance types the catalog already lists, rewrites only their
`usd_per_hour` plus `source` and `pinned`, and keeps every other fact and the
file's layout. Needs network and credentials allowed to call pricing:GetProducts;
the parsing and rewriting are tested offline on tests/fixtures/pricing/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Iterator

import yaml

CATALOG = Path(__file__).resolve().parent.parent / "config" / "catalog" / "instances.yaml"
SERVICE_CODE = "AmazonSageMaker"
# The Price List Query API is served from a few regions only; us-east-1 is one.
API_REGION = "us-east-1"
PRODUCT_FAMILY = "ML Instance"
HOSTING = "Hosting"  # `component` of real-time inference instances (not Notebook, Training, ...)
SOURCE = "AWS Price List API (pricing:GetProducts {service}, {family}/{component}, on-demand, {region})"


def filters(region: str) -> list[dict]:
    return [
        {"Type": "TERM_MATCH", "Field": "productFamily", "Value": PRODUCT_FAMILY},
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
        {"Type": "TERM_MATCH", "Field": "component", "Value": HOSTING},
    ]


def fetch_pages(region: str, client=None) -> Iterator[dict]:
    """GetProducts response pages for real-time hosting instances in `region` (network)."""
    if client is None:
        import boto3

        client = boto3.client("pricing", region_name=API_REGION)
    paginator = client.get_paginator("get_products")
    yield from paginator.paginate(ServiceCode=SERVICE_CODE, Filters=filters(region), FormatVersion="aws_v1")


def parse_prices(pages: Iterable[dict], region: str) -> dict[str, Decimal]:
    """instanceName -> on-demand USD per hour, from GetProducts pages.

    Filters again on the client side: the server-side filters are term matches on
    attributes AWS may rename, and a silently wrong price is worse than none.
    """
    prices: dict[str, Decimal] = {}
    for page in pages:
        for raw in page.get("PriceList", []):
            item = json.loads(raw) if isinstance(raw, str) else raw
            product = item.get("product", {})
            attrs = product.get("attributes", {})
            if (
                product.get("productFamily") != PRODUCT_FAMILY
                or attrs.get("regionCode") != region
                or attrs.get("component", attrs.get("platoinstancetype")) != HOSTING
                or not attrs.get("instanceName", "").startswith("ml.")
            ):
                continue
            price = _on_demand_hourly_usd(item)
            if price is None:
                continue
            name = attrs["instanceName"]
            if name in prices and prices[name] != price:
                raise ValueError(
                    f"{name}: two on-demand hosting prices in {region} ({prices[name]} and {price}); "
                    "the filters no longer single out real-time inference"
                )
            prices[name] = price
    return prices


def _on_demand_hourly_usd(item: dict) -> Decimal | None:
    found = set()
    for term in item.get("terms", {}).get("OnDemand", {}).values():
        for dim in term.get("priceDimensions", {}).values():
            usd = dim.get("pricePerUnit", {}).get("USD")
            if dim.get("unit") == "Hrs" and usd is not None and Decimal(usd) > 0:
                found.add(Decimal(usd).normalize())
    return found.pop() if len(found) == 1 else None


# -- the catalog file -------------------------------------------------------------


def _header(text: str) -> str:
    """The comment block above the first key, kept verbatim."""
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith("#") or not line.strip():
            lines.append(line)
        else:
            break
    return "".join(lines)


def _number(value) -> str:
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
    else:
        text = repr(value)
    return (
        text.removesuffix(".0") if "." in text and isinstance(value, float) and value.is_integer() else text
    )


def render_catalog(header: str, data: dict) -> str:
    """The catalog in its hand-written layout: one aligned flow mapping per instance."""
    rows = data["instances"]
    key_w = max(len(name) for name in rows) + 1  # the name plus its colon
    fields = ("gpus", "gpu", "gpu_memory_gib", "vcpus", "memory_gib", "local_nvme", "usd_per_hour")

    def value(field: str, v) -> str:
        if v is None:  # `gpu` of a CPU-only instance
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float, Decimal)):
            return _number(v)
        return str(v)

    widths = {f: max(len(value(f, r[f])) for r in rows.values()) for f in fields}
    lines = [
        header,
        f"source: {json.dumps(data['source'])}\n",
        f"pinned: {json.dumps(str(data['pinned']))}\n",
        f"price_region: {data['price_region']}\n",
        "instances:\n",
    ]
    for name, row in rows.items():
        parts = []
        for i, f in enumerate(fields):
            text = f"{f}: {value(f, row[f])}"
            last = i == len(fields) - 1
            pad = "" if last else " " * (widths[f] - len(value(f, row[f])))
            parts.append(text + ("" if last else "," + pad))
        lines.append(f"  {(name + ':').ljust(key_w)} {{{' '.join(parts)}}}\n")
    return "".join(lines)


def update_catalog(
    text: str, prices: dict[str, Decimal], region: str, pinned: str
) -> tuple[str, dict[str, tuple], list[str]]:
    """(new file text, {instance: (old, new)} for changed prices, instances without a price)."""
    data = yaml.safe_load(text)
    changes, missing = {}, []
    for name, row in data["instances"].items():
        new = prices.get(name)
        if new is None:
            missing.append(name)
            continue
        if Decimal(str(row["usd_per_hour"])) != new:
            changes[name] = (row["usd_per_hour"], new)
        row["usd_per_hour"] = new
    data["source"] = SOURCE.format(
        service=SERVICE_CODE, family=PRODUCT_FAMILY, component=HOSTING, region=region
    )
    data["pinned"] = pinned
    data["price_region"] = region
    return render_catalog(_header(text), data), changes, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.pricing", description=__doc__.splitlines()[0])
    parser.add_argument("--region", default=None, help="price region (default: the catalog's price_region)")
    parser.add_argument("--catalog", type=Path, default=CATALOG)
    parser.add_argument("--dry-run", action="store_true", help="print the changes, write nothing")
    parser.add_argument(
        "--allow-missing", action="store_true", help="keep old prices of instances the API did not return"
    )
    args = parser.parse_args(argv)
    text = args.catalog.read_text()
    region = args.region or yaml.safe_load(text)["price_region"]
    prices = parse_prices(fetch_pages(region), region)
    new_text, changes, missing = update_catalog(
        text, prices, region, dt.datetime.now(dt.timezone.utc).date().isoformat()
    )
    for name, (old, new) in sorted(changes.items()):
        print(f"{name}: {old} -> {new}")
    if missing:
        print(f"no {region} hosting price for: {', '.join(missing)}", file=sys.stderr)
        if not args.allow_missing:
            # One file, one date: a mix of fresh and stale prices under a new date would mislead.
            print("nothing written (use --allow-missing to keep their old prices)", file=sys.stderr)
            return 1
    if not args.dry_run:
        args.catalog.write_text(new_text)
        print(f"wrote {args.catalog} ({len(changes)} prices changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
