"""What the SDK resolves offline from the pinned metadata equals the public facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks.config import parse_config
from stacks.models.jumpstart import resolve_endpoints

FACTS = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures/jumpstart/catalog-excerpt.json").read_text()
)["models"]
REGIONS = ["us-east-1", "eu-west-1", "af-south-1", "ap-northeast-1"]
CASES = [
    ("huggingface-llm-falcon-7b-instruct-bf16", "ml.g5.2xlarge", "1"),
    ("huggingface-llm-falcon-7b-bf16", "ml.g5.4xlarge", "1"),
    ("huggingface-llm-falcon-40b-instruct-bf16", "ml.g5.12xlarge", "4"),
    ("huggingface-llm-falcon-40b-bf16", "ml.g5.48xlarge", "8"),
    ("huggingface-llm-falcon-40b-instruct-bf16", "ml.p4d.24xlarge", "8"),
    ("model-txt2img-stabilityai-stable-diffusion-v2-1-base", "ml.p3.2xlarge", None),
    ("model-txt2img-stabilityai-stable-diffusion-v2-1-base", "ml.g5.2xlarge", None),
]


def _expected_image(model_id: str, instance_type: str, region: str) -> str:
    facts = FACTS[model_id]
    family = instance_type.split(".")[1]
    alias = next(v["imageUri"] for v in facts["instanceVariants"] if v["instanceType"] == family)
    aliases = next(a["aliases"] for a in facts["instanceAliases"] if a["region"] == region)
    return aliases[alias.lstrip("$")]


def _expected_env(model_id: str, instance_type: str) -> dict[str, str]:
    facts = FACTS[model_id]
    env = {k: str(v) for k, v in facts["environment"].items()}
    for variant in facts["instanceVariants"]:
        if variant["instanceType"] == instance_type:
            env.update(variant.get("environment", {}))
    return env


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(("model_id", "instance_type", "gpus"), CASES)
def test_resolution_matches_public_facts(region, model_id, instance_type, gpus):
    config = parse_config(
        {"region": region, "endpoints": [{"model_id": model_id, "instance_type": instance_type}]}
    )
    [resolved] = resolve_endpoints(config)
    facts = FACTS[model_id]
    assert resolved.model_version == facts["version"]
    assert resolved.image_uri == _expected_image(model_id, instance_type, region)
    assert resolved.artifact_s3_uri == f"s3://jumpstart-cache-prod-{region}/{facts['prepackedArtifactKey']}"
    assert resolved.artifact_is_prefix
    assert resolved.environment == _expected_env(model_id, instance_type)
    assert resolved.environment.get("SM_NUM_GPUS") == gpus


def test_af_south_1_uses_its_own_registry_account():
    config = parse_config({"region": "af-south-1", "endpoints": [{"model_id": CASES[0][0]}]})
    [resolved] = resolve_endpoints(config)
    assert resolved.image_uri.startswith("626614931356.dkr.ecr.af-south-1.amazonaws.com/")
    assert resolved.image_repository == ("626614931356", "huggingface-pytorch-tgi-inference")


def test_without_an_instance_type_the_cheapest_fitting_supported_instance_is_chosen_and_explained():
    # Issue 13: JumpStart's default for Falcon-40B is ml.g5.48xlarge ($20.36/h), but its
    # ~82 GiB (weights x headroom) fit the 96 GiB of ml.g5.12xlarge ($7.09/h).
    config = parse_config({"endpoints": [{"model_id": "huggingface-llm-falcon-40b-instruct-bf16"}]})
    [resolved] = resolve_endpoints(config)
    assert FACTS["huggingface-llm-falcon-40b-instruct-bf16"]["defaultInstanceType"] == "ml.g5.48xlarge"
    assert resolved.instance_type == "ml.g5.12xlarge"
    assert resolved.sm_num_gpus == 4  # the 12xlarge's variant environment, not the 48xlarge's
    assert resolved.instance_note == (
        "ml.g5.12xlarge: the cheapest supported instance whose GPU memory fits (96 GiB, $7.09/h us-east-1 "
        "list price); JumpStart's default ml.g5.48xlarge would cost $9,687.10/month more")


def test_a_named_instance_costlier_than_needed_is_kept_with_a_note_of_the_cheaper_fit():
    config = parse_config({"endpoints": [{"model_id": "huggingface-llm-falcon-40b-instruct-bf16",
                                          "instance_type": "ml.g5.48xlarge"}]})
    [resolved] = resolve_endpoints(config)
    assert resolved.instance_type == "ml.g5.48xlarge"
    # (20.36 - 7.09) $/h x 730 h = $9,687.10 a month per instance.
    assert resolved.instance_note == (
        "ml.g5.12xlarge also fits (96 GiB, $7.09/h): $9,687.10/month less per instance than ml.g5.48xlarge")


def test_a_named_instance_that_is_the_cheapest_fit_carries_no_note():
    config = parse_config({"endpoints": [{"model_id": "huggingface-llm-falcon-7b-instruct-bf16",
                                          "instance_type": "ml.g5.2xlarge"}]})
    assert resolve_endpoints(config)[0].instance_note == ""


def test_user_environment_overrides_spec_and_variant():
    config = parse_config(
        {
            "endpoints": [
                {
                    "model_id": "huggingface-llm-falcon-40b-instruct-bf16",
                    "instance_type": "ml.g5.12xlarge",
                    "environment": {"MAX_INPUT_LENGTH": "1536", "SM_NUM_GPUS": "2"},
                }
            ]
        }
    )
    [resolved] = resolve_endpoints(config)
    assert resolved.max_input_length == 1536 and resolved.sm_num_gpus == 2
    # the variant's own keys survive where the user did not override them
    assert resolved.environment["MAX_BATCH_TOTAL_TOKENS"] == "2048"


def test_resolution_cache_answers_like_the_sdk_and_keys_on_metadata(tmp_path, monkeypatch):
    import shutil

    from stacks.models import pinned, sdk_resolution

    config = parse_config({"region": "eu-west-1", "endpoints": [{"model_id": CASES[2][0], "instance_type": "ml.g5.12xlarge"}]})
    cache_file = tmp_path / "cache.json"
    [fresh] = resolve_endpoints(config, cache=sdk_resolution.ResolutionCache(cache_file))
    # A second run answers from the file without the SDK
    monkeypatch.setattr(sdk_resolution, "_sdk_resolve_cached", lambda *a: pytest.fail("SDK called on a cache hit"))
    [cached] = resolve_endpoints(config, cache=sdk_resolution.ResolutionCache(cache_file))
    assert (cached.image_uri, cached.artifact_s3_uri, cached.environment) == (
        fresh.image_uri, fresh.artifact_s3_uri, fresh.environment
    )
    # Any change to the pinned metadata changes every key
    copy = tmp_path / "metadata"
    shutil.copytree(pinned.METADATA_DIR, copy)
    (copy / "models_manifest.json").write_text((copy / "models_manifest.json").read_text() + " ")
    old = sdk_resolution.ResolutionCache(cache_file)
    new = sdk_resolution.ResolutionCache(cache_file, metadata_dir=copy)
    assert old.key("a") != new.key("a")


def test_startup_timeouts_take_jumpstart_deploy_kwargs_then_size_from_weights():
    """Issue 9, fault 11: JumpStart's own deploy_kwargs win (what JumpStartModel.deploy
    passes); without them the timeouts are sized from the weights, never below the TGI
    floor, never above SageMaker's 3600 s (ProductionVariant API reference)."""
    from stacks.models.pinned import TIMEOUT_FLOOR, startup_timeouts

    spec = {"deploy_kwargs": {"model_data_download_timeout": 2400, "container_startup_health_check_timeout": 1800}}
    assert startup_timeouts(spec, weights_gib=12.9) == (2400, 1800)
    assert startup_timeouts({}, weights_gib=12.9) == (TIMEOUT_FLOOR, TIMEOUT_FLOOR)
    assert startup_timeouts({}, weights_gib=74.9) == (1424, 1424)
    assert startup_timeouts({}, weights_gib=400) == (3600, 3600)
    assert startup_timeouts({"deploy_kwargs": {"model_data_download_timeout": 99999}}, 1) == (3600, TIMEOUT_FLOOR)
    # The config's override wins over both.
    assert startup_timeouts(spec, weights_gib=12.9, override=900) == (900, 900)


def test_the_synth_summary_says_why_an_instance_was_chosen_or_what_a_cheaper_fit_saves():
    from tools.summary import endpoint_lines

    chosen = parse_config({"endpoints": [{"model_id": "huggingface-llm-falcon-40b-instruct-bf16"}]})
    lines = endpoint_lines(resolve_endpoints(chosen))
    assert any(line.startswith("    why            ml.g5.12xlarge: the cheapest supported") for line in lines)
    named = parse_config({"endpoints": [{"model_id": "huggingface-llm-falcon-40b-instruct-bf16",
                                         "instance_type": "ml.g5.48xlarge"}]})
    lines = endpoint_lines(resolve_endpoints(named))
    assert any(line.startswith("    note           ml.g5.12xlarge also fits") for line in lines)
