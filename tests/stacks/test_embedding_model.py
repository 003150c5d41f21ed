"""The text-embedding model (issue 20): BAAI/bge-base-en-v1.5 from JumpStart, pinned like the
others, right-sized onto a CPU instance, priced, and deployable on a classic endpoint and as an
inference component on a shared GPU endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Template

from stacks.app_builder import build_app
from stacks.config import ConfigError, catalog, parse_config
from stacks.contract.lambda_env import frontdoor_models
from stacks.models import sizing
from stacks.models.jumpstart import resolve_endpoints
from stacks.models.shared_endpoints import resolve_shared_endpoints
from tests.synth import cli_context

BGE = "huggingface-sentencesimilarity-bge-base-en-v1-5"
FALCON_7B = "huggingface-llm-falcon-7b-instruct-bf16"
FACTS = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures/jumpstart/catalog-excerpt.json").read_text()
)["models"][BGE]
SHARED = {
    "name": "text", "instance_type": "ml.g5.12xlarge", "min_instances": 0, "max_instances": 1,
    "models": [{"model_id": FALCON_7B, "accelerators": 1}, {"model_id": BGE, "name": "bge-shared", "accelerators": 1}],
}


def _image(instance_type: str, region: str) -> str:
    family = instance_type.split(".")[1]
    alias = next(v["imageUri"] for v in FACTS["instanceVariants"] if v["instanceType"] == family)
    return next(a["aliases"] for a in FACTS["instanceAliases"] if a["region"] == region)[alias.lstrip("$")]


def test_the_pinned_spec_is_the_public_one():
    facts = catalog.models().models[BGE]
    assert (facts.short_name, facts.family, facts.kind, facts.dimensions, facts.max_input_tokens) == (
        "bge-base-en-v1-5", "hf-embedding", "embedding", 768, 512)
    assert FACTS["version"] == "1.1.21" and FACTS["defaultInstanceType"] == "ml.g5.2xlarge"
    assert FACTS["instanceTypes"] == ["ml.g5.2xlarge", "ml.c6i.xlarge", "ml.g5.4xlarge", "ml.g5.8xlarge",
                                      "ml.p3.2xlarge", "ml.g4dn.2xlarge"]
    assert "@cdklabs/generative-ai-cdk-constructs@0.1.318" in FACTS["source"]


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "af-south-1"])
@pytest.mark.parametrize(("instance_type", "device"), [("ml.c6i.xlarge", "cpu"), ("ml.g4dn.2xlarge", "gpu")])
def test_resolution_matches_the_public_facts(region, instance_type, device):
    config = parse_config({"region": region, "endpoints": [{"model_id": BGE, "instance_type": instance_type}]})
    [r] = resolve_endpoints(config)
    assert r.image_uri == _image(instance_type, region)
    assert f"huggingface-pytorch-inference:1.13.1-transformers4.26.0-{device}-py39" in r.image_uri
    assert r.artifact_s3_uri == f"s3://jumpstart-cache-prod-{region}/{FACTS['prepackedArtifactKey']}"
    assert r.environment == {k: str(v) for k, v in FACTS["environment"].items()}
    assert r.sm_num_gpus is None and r.max_input_length is None  # not a TGI container


def test_without_an_instance_type_the_cpu_instance_is_chosen_and_explained():
    [r] = resolve_endpoints(parse_config({"endpoints": [{"model_id": BGE}]}))
    assert r.instance_type == "ml.c6i.xlarge" and r.kind == "embedding"
    # fp32 weights 0.41 GiB x 1.1 fit the 8 GiB host less 2 GiB for the OS and model server;
    # JumpStart's default ml.g5.2xlarge costs (1.515 - 0.204) $/h x 730 h = $957.03 a month more.
    assert r.instance_note == (
        "ml.c6i.xlarge: the cheapest supported instance whose host memory fits (6 GiB, $0.20/h us-east-1 list "
        "price); JumpStart's default ml.g5.2xlarge would cost $957.03/month more")
    # Start-up budget: sized from 0.4 GiB of weights, so the 1200 s floor
    assert (r.model_data_download_timeout_seconds, r.startup_health_check_timeout_seconds) == (1200, 1200)


def test_a_named_gpu_instance_is_kept_with_the_cpu_saving_noted():
    [r] = resolve_endpoints(parse_config({"endpoints": [{"model_id": BGE, "instance_type": "ml.g4dn.2xlarge"}]}))
    assert r.instance_note == "ml.c6i.xlarge also fits (6 GiB, $0.20/h): $537.28/month less per instance than ml.g4dn.2xlarge"


def test_the_cpu_rule_keeps_llms_off_cpu_instances():
    cpu = catalog.instances().instances["ml.c6i.xlarge"]
    assert not cpu.gpus and cpu.model_memory_gib == 6 and cpu.memory_kind == "host memory"
    assert sizing.fits(catalog.models().models[BGE], cpu)
    assert not sizing.fits(catalog.models().models[FALCON_7B], cpu)  # 12.9 GiB of weights


def test_an_instance_jumpstart_does_not_list_is_refused_with_the_list():
    with pytest.raises(ConfigError, match="'ml.g5.xlarge' is not supported by .*ml.c6i.xlarge"):
        resolve_endpoints(parse_config({"endpoints": [{"model_id": BGE, "instance_type": "ml.g5.xlarge"}]}))


def test_models_json_carries_the_kind_and_the_per_input_token_limit():
    config = parse_config({"endpoints": [{"model_id": FALCON_7B}, {"model_id": BGE, "default": True}]})
    [text, embedding] = frontdoor_models(config, {"falcon-7b-instruct": "E1", "bge-base-en-v1-5": "E2"})
    assert embedding == {
        "name": "bge-base-en-v1-5", "model_id": BGE, "endpoint_name": "E2", "family": "hf-embedding",
        "kind": "embedding", "max_input_length": 512, "max_total_tokens": None, "instance_type": "ml.c6i.xlarge",
        "instance_count": 1, "default": True}
    assert text["kind"] == "text" and text["max_input_length"] == 1024


def test_one_default_embedding_model():
    config = parse_config({"endpoints": [{"model_id": BGE, "default": True},
                                         {"model_id": BGE, "name": "bge-2", "default": True}]})
    with pytest.raises(ConfigError, match="only one embedding model may be the default"):
        resolve_endpoints(config)


def test_on_a_shared_gpu_endpoint_it_takes_one_gpu_next_to_falcon():
    [s] = resolve_shared_endpoints(parse_config({"shared_endpoints": [SHARED]}))
    falcon, bge = s.components
    assert (bge.kind, bge.accelerators, bge.memory_mib, bge.reference_instance_type) == (
        "embedding", 1, 1024, "ml.g5.2xlarge")
    assert bge.image_uri == _image("ml.g5.2xlarge", "us-east-1")
    # Its classic alternative is the CPU instance, which the break-even compares against
    assert (bge.classic_instance_type, bge.classic_usd_per_hour) == ("ml.c6i.xlarge", 0.204)
    assert s.initial_instances == 1 and s.gpus_at("max") == {"falcon-7b-instruct": 1, "bge-shared": 1}


def test_a_shared_endpoint_on_a_cpu_instance_is_refused():
    cpu = {**SHARED, "instance_type": "ml.c6i.xlarge", "models": [{"model_id": BGE, "accelerators": 1}]}
    with pytest.raises(ConfigError, match=r"shared_endpoints\[0\].instance_type: ml.c6i.xlarge has no GPUs"):
        resolve_shared_endpoints(parse_config({"shared_endpoints": [cpu]}))


# -- synthesized: a CPU endpoint and an inference component ---------------------------


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> dict[str, Template]:
    path = tmp_path_factory.mktemp("embedding") / "embedding.yaml"
    path.write_text(yaml.safe_dump({"project_name": "fm-emb", "endpoints": [{"model_id": BGE}],
                                    "shared_endpoints": [SHARED]}))
    app = cdk.App(context={**cli_context(), "config": str(path)}, outdir=str(path.parent / "out"))
    deployment = build_app(app, str(path))  # cdk-nag packs attached: any finding fails synth
    assembly = app.synth()
    return {s.node.id: Template.from_json(assembly.get_stack_by_name(s.stack_name).template)
            for s in (deployment.endpoints, deployment.monitoring)}


@pytest.fixture(scope="module")
def endpoints(templates) -> Template:
    return next(t for sid, t in templates.items() if "ndpoints" in sid)


def test_the_cpu_endpoint_config_encrypts_its_volume(endpoints):
    configs = [c["Properties"] for c in endpoints.find_resources("AWS::SageMaker::EndpointConfig").values()]
    [cpu] = [c for c in configs if c["ProductionVariants"][0]["InstanceType"] == "ml.c6i.xlarge"]
    # c6i has no local NVMe: the volume key is allowed, and set (DESIGN "KMS on endpoint configs")
    assert "Fn::GetAtt" in cpu["KmsKeyId"] and cpu["ProductionVariants"][0]["InitialInstanceCount"] == 1
    assert cpu["DataCaptureConfig"]["EnableCapture"] is True


def test_the_embedding_inference_component_asks_for_one_gpu(endpoints):
    components = endpoints.find_resources("AWS::SageMaker::InferenceComponent").values()
    [bge] = [c["Properties"] for c in components if c["Properties"]["InferenceComponentName"].startswith("fm-emb-bge")]
    assert bge["Specification"]["ComputeResourceRequirements"] == {
        "NumberOfAcceleratorDevicesRequired": 1, "MinMemoryRequiredInMb": 1024}


def test_the_dashboard_graphs_host_memory_instead_of_gpus_for_the_cpu_endpoint(templates):
    body = json.dumps([t.find_resources("AWS::CloudWatch::Dashboard") for t in templates.values()])
    assert "bge-base-en-v1-5: memory (host)" in body and "4 vCPUs, 8 GiB, no GPU" in body
    assert "bge-base-en-v1-5: GPU" not in body
