"""The metadata tool's logic, offline: derivation from facts and bucket refresh."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import jumpstart_metadata as jm

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures/jumpstart"
PINNED = Path(__file__).resolve().parents[2] / "config/jumpstart"


def test_pinned_folder_is_exactly_what_from_catalog_writes(tmp_path):
    jm.from_catalog(FIXTURES / "catalog-excerpt.json", tmp_path, jm.DEFAULT_MODELS)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    assert written == sorted(p.relative_to(PINNED) for p in PINNED.rglob("*.json"))
    for rel in written:
        assert (tmp_path / rel).read_text() == (PINNED / rel).read_text(), rel


def _local_bucket(root: Path):
    def fetch(key: str) -> bytes:
        path = root / key
        if not path.is_file():
            raise FileNotFoundError(f"NoSuchKey: {key}")
        return path.read_bytes()

    return fetch


def test_refresh_picks_newest_version_and_writes_manifest(tmp_path):
    # Given a bucket copy with the real-format manifest plus an older duplicate entry
    bucket = tmp_path / "bucket"
    (bucket / "community_models").mkdir(parents=True)
    src = FIXTURES / "sdk-format"
    manifest = json.loads((src / "models_manifest.json").read_text())
    old = dict(manifest[-1], version="2.1.0", spec_key="community_models/old/specs_v2.1.0.json")
    (bucket / "models_manifest.json").write_text(json.dumps(manifest + [old]))
    spec_dir = bucket / "community_models/meta-textgeneration-llama-3-1-70b"
    spec_dir.mkdir(parents=True)
    spec_name = "specs_v2.16.2.json"
    (spec_dir / spec_name).write_text((src / "community_models/meta-textgeneration-llama-3-1-70b" / spec_name).read_text())
    # When refreshing one model
    out = tmp_path / "out"
    written = jm.refresh(_local_bucket(bucket), out, ["meta-textgeneration-llama-3-1-70b"])
    # Then only its newest spec is pinned, under the manifest's key
    assert [(e["model_id"], e["version"]) for e in written] == [("meta-textgeneration-llama-3-1-70b", "2.16.2")]
    pinned = json.loads((out / written[0]["spec_key"]).read_text())
    assert pinned["gated_bucket"] is True
    assert json.loads((out / "models_manifest.json").read_text()) == written


def test_refresh_refuses_models_missing_from_manifest(tmp_path):
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    (bucket / "models_manifest.json").write_text("[]")
    with pytest.raises(SystemExit, match="not in the JumpStart manifest: \\['nope'\\]"):
        jm.refresh(_local_bucket(bucket), tmp_path / "out", ["nope"])


def test_spec_translation_keeps_variants_and_gating():
    entry = json.loads((FIXTURES / "catalog-excerpt.json").read_text())["models"]["meta-textgeneration-llama-2-7b-f"]
    spec = jm.spec_from_catalog_entry(entry)
    assert spec["gated_bucket"] is True
    assert spec["hosting_eula_key"] == "fmhMetadata/eula/llamaEula.txt"
    assert "hosting_instance_type_variants" not in spec  # no images published in the facts
