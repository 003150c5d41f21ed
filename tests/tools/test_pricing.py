"""tools.pricing offline: parsing a saved GetProducts response and rewriting the catalog."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from stacks.config.catalog import InstanceCatalog
from tools import pricing

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures/pricing/get_products_sagemaker_us-east-1.json"
CATALOG = Path(__file__).resolve().parents[2] / "config/catalog/instances.yaml"


@pytest.fixture(scope="module")
def pages() -> list[dict]:
    return json.loads(FIXTURE.read_text())


def test_parser_keeps_only_hosting_prices_of_the_region(pages):
    # Given pages with a Notebook item and an eu-west-1 item for ml.g5.2xlarge
    prices = pricing.parse_prices(pages, "us-east-1")
    # Then only us-east-1 hosting prices are read, exactly as the decimal text says
    assert prices["ml.g5.2xlarge"] == Decimal("1.515")
    assert prices["ml.g5.xlarge"] == Decimal("1.4084")
    assert prices["ml.p3.2xlarge"] == Decimal("3.825")
    assert prices["ml.c6i.xlarge"] == Decimal("0.204")  # CPU-only: the embedding model's instance
    assert set(prices) == {"ml.g5.2xlarge", "ml.g5.xlarge", "ml.g5.12xlarge", "ml.p3.2xlarge", "ml.c6i.xlarge",
                           "ml.m5.large"}


def test_parser_reads_the_other_region_when_asked(pages):
    assert pricing.parse_prices(pages, "eu-west-1") == {"ml.g5.2xlarge": Decimal("1.694")}


def test_parser_refuses_two_prices_for_one_instance(pages):
    # Given the same hosting SKU twice with different prices (filters no longer specific)
    item = json.loads(pages[0]["PriceList"][0])
    dims = next(iter(next(iter(item["terms"]["OnDemand"].values()))["priceDimensions"].values()))
    dims["pricePerUnit"]["USD"] = "9.9990000000"
    with pytest.raises(ValueError, match="ml.g5.2xlarge: two on-demand hosting prices"):
        pricing.parse_prices([*pages, {"PriceList": [json.dumps(item)]}], "us-east-1")


def test_request_filters_select_real_time_hosting_in_the_region():
    fields = {f["Field"]: f["Value"] for f in pricing.filters("eu-west-1")}
    assert fields == {"productFamily": "ML Instance", "regionCode": "eu-west-1", "component": "Hosting"}


def test_fetch_pages_uses_the_paginator_with_those_filters(pages):
    class FakeClient:
        def get_paginator(self, name):
            assert name == "get_products"
            return self

        def paginate(self, **kwargs):
            self.kwargs = kwargs
            return iter(pages)

    client = FakeClient()
    assert list(pricing.fetch_pages("us-east-1", client)) == pages
    assert client.kwargs["ServiceCode"] == "AmazonSageMaker"
    assert client.kwargs["Filters"] == pricing.filters("us-east-1")


def test_rendering_the_pinned_catalog_reproduces_it_byte_for_byte():
    text = CATALOG.read_text()
    assert pricing.render_catalog(pricing._header(text), yaml.safe_load(text)) == text


def test_update_changes_prices_source_and_date_and_keeps_other_facts(pages):
    text = CATALOG.read_text()
    new_text, changes, missing = pricing.update_catalog(
        text, pricing.parse_prices(pages, "us-east-1"), "us-east-1", "2026-12-01"
    )
    old, new = yaml.safe_load(text), yaml.safe_load(new_text)
    assert changes == {"ml.g5.xlarge": (1.408, Decimal("1.4084"))}
    assert new["instances"]["ml.g5.xlarge"]["usd_per_hour"] == 1.4084
    assert new["pinned"] == "2026-12-01"
    assert new["source"].startswith("AWS Price List API (pricing:GetProducts AmazonSageMaker")
    for name, row in old["instances"].items():
        assert {k: v for k, v in new["instances"][name].items() if k != "usd_per_hour"} == {
            k: v for k, v in row.items() if k != "usd_per_hour"
        }
    # Instances the response lacks are reported, not dropped or zeroed
    assert "ml.p4d.24xlarge" in missing and new["instances"]["ml.p4d.24xlarge"]["usd_per_hour"] == 37.688
    assert "ml.m5.large" not in new["instances"]
    assert new_text.startswith(pricing._header(text))
    InstanceCatalog.model_validate(new)


def test_cli_writes_nothing_when_prices_are_missing(tmp_path, pages, monkeypatch, capsys):
    catalog = tmp_path / "instances.yaml"
    catalog.write_text(CATALOG.read_text())
    monkeypatch.setattr(pricing, "fetch_pages", lambda region: iter(pages))
    assert pricing.main(["--catalog", str(catalog)]) == 1
    assert catalog.read_text() == CATALOG.read_text()
    assert "ml.p4d.24xlarge" in capsys.readouterr().err
    assert pricing.main(["--catalog", str(catalog), "--allow-missing"]) == 0
    assert yaml.safe_load(catalog.read_text())["instances"]["ml.g5.xlarge"]["usd_per_hour"] == 1.4084


def test_a_cpu_only_instance_renders_with_a_null_gpu_and_validates():
    # ml.c6i.xlarge (the embedding model's instance) has no GPU: `gpu: null`, 0 GPUs, 0 GiB
    data = yaml.safe_load(CATALOG.read_text())
    row = data["instances"]["ml.c6i.xlarge"]
    assert (row["gpus"], row["gpu"], row["gpu_memory_gib"], row["local_nvme"]) == (0, None, 0, False)
    assert "gpu: null," in pricing.render_catalog("", data)
    facts = InstanceCatalog.model_validate(data).instances["ml.c6i.xlarge"]
    assert facts.hardware == "4 vCPUs, 8 GiB, no GPU" and facts.model_memory_gib == 6
