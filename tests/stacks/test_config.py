"""Refusals at synth: every bad config names the field and the allowed values."""

from __future__ import annotations

import copy

import pytest
import yaml

from stacks.config import ConfigError, load_config, parse_config
from stacks.models.jumpstart import resolve_endpoints
from tests.stacks.refusals import refusal

BASE = {
    "region": "us-east-1",
    "endpoints": [{"model_id": "huggingface-llm-falcon-7b-instruct-bf16", "instance_type": "ml.g5.2xlarge"}],
}


def with_endpoint(**changes) -> dict:
    data = copy.deepcopy(BASE)
    data["endpoints"][0].update(changes)
    return data


def test_default_config_is_valid_and_pins_falcon_7b():
    config = load_config()
    [endpoint] = resolve_endpoints(config)
    assert (config.region, endpoint.model_id, endpoint.instance_type, endpoint.settings.instance_count) == (
        "us-east-1",
        "huggingface-llm-falcon-7b-instruct-bf16",
        "ml.g5.2xlarge",
        1,
    )


def test_unknown_model_lists_supported_models():
    msg = refusal(with_endpoint(model_id="huggingface-llm-falcon-180b"))
    assert msg.startswith("endpoints[0].model_id: unknown model 'huggingface-llm-falcon-180b'")
    assert "huggingface-llm-falcon-40b-instruct-bf16" in msg
    assert "model-txt2img-stabilityai-stable-diffusion-v2-1-base" in msg


def test_unsupported_instance_lists_supported_ones():
    msg = refusal(with_endpoint(instance_type="ml.g4dn.xlarge"))
    assert msg == (
        "endpoints[0].instance_type: 'ml.g4dn.xlarge' is not supported by "
        "huggingface-llm-falcon-7b-instruct-bf16; supported: ml.g5.2xlarge, ml.g5.4xlarge, "
        "ml.g5.8xlarge, ml.g5.16xlarge (the cheapest supported instance that fits is ml.g5.2xlarge "
        "($1.52/h, 24 GiB))"
    )


def test_region_without_image_is_refused_with_regions_that_have_one():
    data = with_endpoint(
        model_id="model-txt2img-stabilityai-stable-diffusion-v2-1-base", instance_type="ml.p3.2xlarge"
    )
    data["region"] = "ap-southeast-5"
    msg = refusal(data)
    assert msg.startswith(
        "region: model-txt2img-stabilityai-stable-diffusion-v2-1-base has no inference image in "
        "ap-southeast-5; regions with an image: af-south-1, "
    )
    assert "eu-west-1" in msg


def test_gated_model_without_eula_is_refused():
    msg = refusal(with_endpoint(model_id="meta-textgeneration-llama-2-7b-f", instance_type="ml.g5.2xlarge"))
    assert msg == (
        "endpoints[0].accept_eula: meta-textgeneration-llama-2-7b-f is a gated model; read its EULA "
        "(fmhMetadata/eula/llamaEula.txt) and set accept_eula: true"
    )


def test_model_larger_than_gpu_memory_names_need_and_cheapest_fit():
    # Falcon-40B on one A10G: the memory check speaks first, then the allowed values.
    msg = refusal(with_endpoint(model_id="huggingface-llm-falcon-40b-instruct-bf16", instance_type="ml.g5.2xlarge"))
    assert msg == (
        "endpoints[0].instance_type: huggingface-llm-falcon-40b-instruct-bf16 needs ~82.4 GiB of GPU "
        "memory (bf16 weights 74.9 GiB x 1.1 headroom) but ml.g5.2xlarge has 24 GiB (1 x A10G 24 GiB); "
        "the cheapest supported instance that fits is ml.g5.12xlarge ($7.09/h, 96 GiB); "
        "supported: ml.g5.12xlarge, ml.g5.24xlarge, ml.g5.48xlarge, ml.p4d.24xlarge"
    )


def test_memory_fit_is_checked_even_for_a_supported_instance(monkeypatch):
    # Given a catalogue where Falcon-40B claims support for a one-GPU instance
    from stacks.models import pinned

    spec_key = pinned.read_manifest(pinned.METADATA_DIR)["huggingface-llm-falcon-40b-instruct-bf16"]["spec_key"]
    spec = copy.deepcopy(pinned.read_spec(pinned.METADATA_DIR, spec_key))
    spec["supported_inference_instance_types"].insert(0, "ml.g5.2xlarge")
    monkeypatch.setattr(pinned, "read_spec", lambda _dir, _key: spec)
    # When it is configured there, the memory check still refuses it
    msg = refusal(with_endpoint(model_id="huggingface-llm-falcon-40b-instruct-bf16", instance_type="ml.g5.2xlarge"))
    assert "needs ~82.4 GiB of GPU memory" in msg
    assert "the cheapest supported instance that fits is ml.g5.12xlarge ($7.09/h, 96 GiB)" in msg


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"instance_count": 0}, "endpoints[0].instance_count: Input should be greater than 0"),
        ({"instance_count": -2}, "endpoints[0].instance_count: Input should be greater than 0"),
        (
            {"autoscaling": {"min_capacity": 3, "max_capacity": 2}},
            "endpoints[0].autoscaling: min_capacity (3) must be <= max_capacity (2)",
        ),
        (
            {"autoscaling": {"min_capacity": 0, "max_capacity": 2}},
            "endpoints[0].autoscaling.min_capacity: Input should be greater than 0",
        ),
        (
            {"instance_count": 5, "autoscaling": {"min_capacity": 1, "max_capacity": 2}},
            "endpoints[0]: instance_count (5) must lie within autoscaling [1, 2]",
        ),
        (
            {"instanceType": "ml.g5.2xlarge"},
            "endpoints[0].instanceType: unknown field; allowed: model_id, model_package, name, model_version, "
            "instance_type, instance_count, autoscaling, accept_eula, environment, data_capture, alarms, "
            "startup_health_check_timeout_seconds, default, sleep",
        ),
        ({"instance_count": True}, "endpoints[0].instance_count: Input should be a valid integer"),
        ({"instance_count": "3"}, "endpoints[0].instance_count: Input should be a valid integer"),
        (
            {"data_capture": {"sampling_percentage": 101}},
            "endpoints[0].data_capture.sampling_percentage: Input should be less than or equal to 100",
        ),
    ],
)
def test_shape_refusals_name_the_field(change, expected):
    with pytest.raises(ConfigError) as err:
        parse_config(with_endpoint(**change))
    assert str(err.value) == expected


def test_enum_refusal_lists_allowed_values():
    data = copy.deepcopy(BASE)
    data["api"] = {"auth": "apikey"}
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert str(err.value) == "api.auth: Input should be 'iam', 'cognito' or 'tenant_keys' (got 'apikey')"


def test_duplicate_names_and_two_defaults_are_refused():
    data = copy.deepcopy(BASE)
    data["endpoints"].append(dict(data["endpoints"][0]))
    assert "endpoints[1].name: name 'falcon-7b-instruct' is already used by endpoints[0]" in refusal(data)
    data["endpoints"][1]["name"] = "second"
    data["endpoints"][0]["default"] = data["endpoints"][1]["default"] = True
    assert refusal(data).startswith("endpoints[1].default: only one text model may be the default")


def test_unpinned_version_is_refused():
    assert refusal(with_endpoint(model_version="1.0.0")).startswith(
        "endpoints[0].model_version: version '1.0.0' of huggingface-llm-falcon-7b-instruct-bf16 is not "
        "pinned; pinned: 4.6.16"
    )


def test_load_config_reports_file_and_yaml_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("region: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "missing.yaml")
    bad.write_text(yaml.safe_dump({"region": "mars", "endpoints": BASE["endpoints"]}))
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert str(err.value).startswith(f"{bad}: region: String should match pattern")


def test_operator_templates_are_checked_by_the_front_doors_own_validator():
    from stacks.contract.lambda_env import validate_extra_templates

    good = {"name": "haiku", "description": "A haiku.", "template": "Write a haiku about ${topic}.",
            "variables": [{"name": "topic", "description": "Topic"}]}
    assert '"name":"haiku"' in validate_extra_templates([good])
    with pytest.raises(ConfigError) as err:
        validate_extra_templates([dict(good, template="Write about ${y}.")])
    assert str(err.value).startswith("api.extra_templates: ")
    assert "'y'" in str(err.value)
    with pytest.raises(ConfigError, match=r"api.extra_templates: \d+ bytes as JSON; at most 2048"):
        validate_extra_templates([dict(good, description="x" * 3000)])


def test_synth_refuses_a_broken_operator_template(tmp_path):
    import aws_cdk as cdk

    from stacks.app_builder import build_app

    data = copy.deepcopy(BASE)
    data["api"] = {"extra_templates": [{"name": "x"}]}
    path = tmp_path / "bad-template.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"^api.extra_templates: "):
        build_app(cdk.App(), str(path), nag=False)


@pytest.mark.parametrize(("feedback", "expected"), [
    ({"retention_days": 0}, "api.feedback.retention_days: Input should be greater than or equal to 1"),
    ({"retention_days": 3651}, "api.feedback.retention_days: Input should be less than or equal to 3650"),
    ({"store_generations": "yes"}, "api.feedback.store_generations: Input should be a valid boolean"),
    ({"keep": True}, "api.feedback.keep: unknown field; allowed: store_generations, retention_days"),
])
def test_feedback_storage_refusals_name_the_field(feedback, expected):
    data = copy.deepcopy(BASE)
    data["api"] = {"feedback": feedback}
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert str(err.value).startswith(expected)


def test_generations_are_not_stored_unless_the_config_says_so():
    """Prompts and outputs are user data: off by default, 90 days once on."""
    from stacks.contract.lambda_env import feedback_env

    default = parse_config(copy.deepcopy(BASE)).api
    assert (default.feedback.store_generations, default.feedback.retention_days) == (False, 90)
    assert feedback_env(default) == {}
    data = copy.deepcopy(BASE)
    data["api"] = {"feedback": {"store_generations": True}}
    assert feedback_env(parse_config(data).api) == {"FEEDBACK_STORE_GENERATIONS": "true",
                                                    "FEEDBACK_RETENTION_DAYS": "90"}
