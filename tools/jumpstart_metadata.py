"""Maintain the pinned JumpStart metadata folder (config/jumpstart/).

Synth resolves images, artifacts and per-instance env offline through the
SageMaker SDK's local-metadata mode, which reads exactly two things:
``models_manifest.json`` and the spec files it points at. This tool writes them.

Two sources:

* ``from-catalog``: derive SDK-format specs from the public facts catalogue
  (``catalog-excerpt.json``, decoded JumpStart specs). Works offline.
* ``refresh``: download the manifest and the chosen models' specs from the public
  JumpStart bucket (needs network). The download is injected as a function so the
  selection/writing logic is tested offline against a local folder.

Usage:
    python -m tools.jumpstart_metadata from-catalog tests/fixtures/jumpstart/catalog-excerpt.json
    python -m tools.jumpstart_metadata refresh [--region us-west-2] [MODEL_ID ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path
from typing import Callable, Iterable

REPO = Path(__file__).resolve().parent.parent
PINNED_DIR = REPO / "config" / "jumpstart"
MANIFEST = "models_manifest.json"

# The SDK refuses specs whose min_sdk_version exceeds its own version; the facts
# catalogue does not carry it, and every model here predates SDK 2.200.
MIN_SDK_VERSION = "2.189.0"

DEFAULT_MODELS = (
    "huggingface-llm-falcon-7b-instruct-bf16",
    "huggingface-llm-falcon-7b-bf16",
    "huggingface-llm-falcon-40b-instruct-bf16",
    "huggingface-llm-falcon-40b-bf16",
    "model-txt2img-stabilityai-stable-diffusion-v2-1-base",
    "huggingface-text2text-flan-t5-xl",
    "meta-textgeneration-llama-2-7b-f",
    "huggingface-sentencesimilarity-bge-base-en-v1-5",
)


def _env_type(value: object) -> str:
    return "int" if isinstance(value, int) else "text"


def spec_from_catalog_entry(entry: dict) -> dict:
    """Translate one catalogue entry into the SDK's spec format."""
    variants: dict[str, dict] = {}
    for variant in entry.get("instanceVariants", []):
        name = variant["instanceType"]
        body = variants.setdefault(name, {})
        if "imageUri" in variant:
            body.setdefault("regional_properties", {})["image_uri"] = variant["imageUri"]
        if "environment" in variant:
            body.setdefault("properties", {})["environment_variables"] = dict(
                variant["environment"]
            )
    regional_aliases = {
        alias["region"]: dict(alias["aliases"]) for alias in entry.get("instanceAliases", [])
    }
    spec: dict = {
        "model_id": entry["modelId"],
        "version": entry["version"],
        "min_sdk_version": MIN_SDK_VERSION,
        "training_supported": False,
        "incremental_training_supported": False,
        "hosting_ecr_specs": None,
        "hosting_artifact_key": entry["artifactKey"],
        "hosting_prepacked_artifact_key": entry["prepackedArtifactKey"],
        "hosting_artifact_s3_data_type": "S3Prefix",
        "hosting_artifact_compression_type": "None",
        "hosting_script_key": None,
        "hosting_use_script_uri": False,
        "inference_vulnerable": False,
        "inference_dependencies": [],
        "inference_vulnerabilities": [],
        "training_vulnerable": False,
        "training_dependencies": [],
        "training_vulnerabilities": [],
        "deprecated": False,
        "inference_enable_network_isolation": True,
        "default_inference_instance_type": entry["defaultInstanceType"],
        "supported_inference_instance_types": list(entry["instanceTypes"]),
        "inference_environment_variables": [
            {
                "name": name,
                "type": _env_type(value),
                "default": value,
                "scope": "container",
                "required_for_model_class": True,
            }
            for name, value in sorted(entry.get("environment", {}).items())
        ],
    }
    if regional_aliases or variants:
        spec["hosting_instance_type_variants"] = {
            "regional_aliases": regional_aliases,
            "variants": variants,
        }
    if entry.get("gatedBucket"):
        spec["gated_bucket"] = True
    if entry.get("requiresEula"):
        spec["hosting_eula_key"] = entry["requiresEula"]
    return spec


def spec_key(model_id: str, version: str) -> str:
    return f"community_models/{model_id}/specs_v{version}.json"


def write_pinned(specs: Iterable[dict], out_dir: Path) -> list[dict]:
    """Write specs plus a manifest listing exactly them; return the manifest."""
    manifest = []
    for spec in sorted(specs, key=lambda s: s["model_id"]):
        key = spec_key(spec["model_id"], spec["version"])
        path = out_dir / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(spec, indent=1, sort_keys=True) + "\n")
        manifest.append(
            {
                "model_id": spec["model_id"],
                "version": spec["version"],
                "min_version": spec.get("min_sdk_version", MIN_SDK_VERSION),
                "spec_key": key,
            }
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def from_catalog(catalog_path: Path, out_dir: Path, model_ids: Iterable[str]) -> list[dict]:
    catalog = json.loads(catalog_path.read_text())["models"]
    missing = [m for m in model_ids if m not in catalog]
    if missing:
        raise SystemExit(f"not in the catalogue: {missing}; known: {sorted(catalog)}")
    return write_pinned((spec_from_catalog_entry(catalog[m]) for m in model_ids), out_dir)


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def latest_entries(manifest: list[dict], model_ids: Iterable[str]) -> dict[str, dict]:
    """Pick the newest manifest entry of each requested model; refuse unknown ids."""
    wanted = set(model_ids)
    best: dict[str, dict] = {}
    for entry in manifest:
        mid = entry["model_id"]
        if mid in wanted and (
            mid not in best or _version_key(entry["version"]) > _version_key(best[mid]["version"])
        ):
            best[mid] = entry
    missing = sorted(wanted - set(best))
    if missing:
        raise SystemExit(f"not in the JumpStart manifest: {missing}")
    return best


def refresh(fetch: Callable[[str], bytes], out_dir: Path, model_ids: Iterable[str]) -> list[dict]:
    """Download the manifest and the newest spec of each model through ``fetch(key)``."""
    manifest = json.loads(fetch(MANIFEST))
    specs = [json.loads(fetch(e["spec_key"])) for e in latest_entries(manifest, model_ids).values()]
    return write_pinned(specs, out_dir)


def bucket_fetcher(region: str) -> Callable[[str], bytes]:
    base = f"https://jumpstart-cache-prod-{region}.s3.{region}.amazonaws.com/"

    def fetch(key: str) -> bytes:
        with urllib.request.urlopen(base + key, timeout=30) as response:  # noqa: S310 (fixed https base)
            return response.read()

    return fetch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cat = sub.add_parser("from-catalog", help="derive specs from a facts catalogue (offline)")
    cat.add_argument("catalog", type=Path)
    cat.add_argument("models", nargs="*", default=list(DEFAULT_MODELS))
    ref = sub.add_parser("refresh", help="download from the public JumpStart bucket")
    ref.add_argument("--region", default="us-west-2")
    ref.add_argument("models", nargs="*", default=list(DEFAULT_MODELS))
    for p in (cat, ref):
        p.add_argument("--out", type=Path, default=PINNED_DIR)
    args = parser.parse_args(argv)
    if args.command == "from-catalog":
        manifest = from_catalog(args.catalog, args.out, args.models)
    else:
        manifest = refresh(bucket_fetcher(args.region), args.out, args.models)
    for entry in manifest:
        print(f"{entry['model_id']}@{entry['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
