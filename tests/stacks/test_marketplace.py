"""AWS Marketplace model packages (issue 13 item 1): the pinned catalog, the synth-time
refusals, the templates (ModelPackageName, network isolation, no image or artifacts),
the execution role, and the front door's MODELS_JSON entry."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from stacks.config import catalog
from stacks.config import ConfigError, parse_config
from stacks.models.jumpstart import resolve_endpoints
from stacks.contract.lambda_env import frontdoor_models
from stacks.models.marketplace import ResolvedPackage
from stacks.config.marketplace_catalog import ARN_RE, PackageInstance, packages
from tests.stacks.refusals import refusal
from tests.synth import CONFIGS, cli_context, synth

FALCON = {"model_id": "huggingface-llm-falcon-7b-instruct-bf16", "instance_type": "ml.g5.2xlarge"}
ULTRA_US_EAST_1 = ("arn:aws:sagemaker:us-east-1:865070037744:model-package/"
                   "j2-ultra-v2-1-000-9a64fc1ffb633dc0a86fd4330c43a90a")  # AI21Labs/SageMaker versions/j2-ultra
LISTED = "ai21-j2-light, ai21-j2-mid, ai21-j2-ultra"


def config(region: str = "us-east-1", **package) -> dict:
    return {"region": region, "endpoints": [{"model_package": "ai21-j2-ultra", **package}, dict(FALCON)]}


# -- the pinned catalog ------------------------------------------------------------


def test_catalog_pins_ai21s_arn_map_and_priced_instances():
    cat = packages()
    assert cat.listed() == ["ai21-j2-light", "ai21-j2-mid", "ai21-j2-ultra"]
    known = catalog.instances().instances
    for key in cat.listed():
        p = cat.packages[key]
        assert p.family == "ai21-j2" and p.kind == "text"
        assert len(p.regions) == 16 and set(p.instances) <= set(known), key
        for region, arn in p.regions.items():
            assert ARN_RE.match(arn)["region"] == region
    assert cat.packages["ai21-j2-ultra"].regions["us-east-1"] == ULTRA_US_EAST_1
    # docs.ai21.com, "Choosing the right instance type": J2 Ultra's context per instance
    assert {t: i.context_tokens for t, i in cat.packages["ai21-j2-ultra"].instances.items()} == {
        "ml.g5.12xlarge": 2048, "ml.g5.48xlarge": 4096, "ml.p4d.24xlarge": 8191}


def test_withdrawn_packages_name_a_listed_replacement():
    cat = packages()
    withdrawn = {k: p.replaced_by for k, p in cat.packages.items() if p.status == "withdrawn"}
    assert withdrawn == {"ai21-j2-jumbo-instruct": "ai21-j2-ultra", "ai21-j2-grande-instruct": "ai21-j2-mid",
                         "ai21-j2-grande": "ai21-j2-mid", "ai21-j2-large": "ai21-j2-light"}
    assert all(cat.packages[r].status == "listed" for r in withdrawn.values())


def test_catalog_refuses_an_arn_of_another_region():
    p = packages().packages["ai21-j2-mid"].model_dump()
    p["regions"]["eu-west-1"] = p["regions"]["us-east-1"]
    with pytest.raises(ValueError, match="regions.eu-west-1: .* is not a model package ARN in eu-west-1"):
        type(packages().packages["ai21-j2-mid"]).model_validate(p)


# -- config shape ------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", [{}, {"model_id": FALCON["model_id"], "model_package": "ai21-j2-ultra"}])
def test_exactly_one_model_source(endpoint):
    with pytest.raises(ConfigError) as err:
        parse_config({"endpoints": [endpoint]})
    assert str(err.value) == (
        "endpoints[0]: set exactly one of model_id (a JumpStart model) and model_package (an AWS Marketplace "
        f"model package; listed: {LISTED})")


# -- refusals at synth -------------------------------------------------------------


def test_unsupported_instance_lists_the_supported_ones_with_their_context():
    assert refusal(config(instance_type="ml.g5.2xlarge")) == (
        "endpoints[0].instance_type: 'ml.g5.2xlarge' is not supported by ai21-j2-ultra; supported: "
        "ml.g5.12xlarge (2048-token context), ml.g5.48xlarge (4096-token context), ml.p4d.24xlarge "
        "(8191-token context) (the cheapest is ml.g5.12xlarge, $7.09/h)")


def test_region_without_an_arn_names_the_regions_that_have_one():
    msg = refusal(config(region="af-south-1"))
    assert msg.startswith("region: ai21-j2-ultra has no model package in af-south-1; regions with one: "
                          "ap-northeast-1, ap-northeast-2, ap-south-1,")
    assert msg.endswith("us-east-1, us-east-2, us-west-1, us-west-2")


def test_unknown_package_names_the_listed_ones():
    assert refusal(config() | {"endpoints": [{"model_package": "ai21-jamba-1-5-large"}]}) == (
        f"endpoints[0].model_package: unknown package 'ai21-jamba-1-5-large'; listed: {LISTED}")


@pytest.mark.parametrize(("region", "listed"), [
    ("us-east-1", f"listed packages in us-east-1: {LISTED}"),
    ("af-south-1", f"no listed package has an ARN in af-south-1; listed packages: {LISTED}"),
])
def test_withdrawn_package_names_its_replacement_and_the_listed_ones(region, listed):
    data = {"region": region, "endpoints": [{"model_package": "ai21-j2-jumbo-instruct"}]}
    assert refusal(data) == (
        "endpoints[0].model_package: 'ai21-j2-jumbo-instruct' (Jurassic-2 Jumbo Instruct) is no longer listed by "
        "its seller (renamed Jurassic-2 Ultra (\"Jurassic-2 Ultra (formerly Jumbo Instruct)\", J2_Ultra notebook)); "
        f"use ai21-j2-ultra; {listed}")


@pytest.mark.parametrize(("changes", "message"), [
    ({"environment": {"FOO": "1"}}, "endpoints[0].environment: a model package takes no container environment; "
                                    "remove environment (FOO)"),
    ({"accept_eula": True}, "endpoints[0].accept_eula: ai21-j2-ultra is accepted with its AWS Marketplace "
                            "subscription (https://aws.amazon.com/marketplace/pp/prodview-f4y5ksmu5kccy), not in "
                            "the config; remove accept_eula"),
    ({"model_version": "v2-0-004"}, "endpoints[0].model_version: version 'v2-0-004' of ai21-j2-ultra is not pinned; "
                                    "pinned: v2-1-000 (config/catalog/marketplace.yaml)"),
])
def test_jumpstart_only_fields_are_refused(changes, message):
    assert refusal(config(**changes)) == message


def test_supported_but_unpriced_instance_is_refused(monkeypatch):
    cat = packages()
    ultra = cat.packages["ai21-j2-ultra"]
    unpriced = ultra.model_copy(update={"instances": {**ultra.instances,
                                                      "ml.p4de.24xlarge": PackageInstance(context_tokens=8191)}})
    patched = cat.model_copy(update={"packages": {**cat.packages, "ai21-j2-ultra": unpriced}})
    monkeypatch.setattr("stacks.models.marketplace.packages", lambda: patched)
    assert refusal(config(instance_type="ml.p4de.24xlarge")).startswith(
        "endpoints[0].instance_type: no pinned facts for 'ml.p4de.24xlarge' (config/catalog/instances.yaml); known: ")


# -- right-sizing ------------------------------------------------------------------


def test_without_instance_type_the_cheapest_supported_instance_is_chosen_and_explained():
    [ultra, _] = resolve_endpoints(parse_config(config()))
    assert isinstance(ultra, ResolvedPackage)
    assert (ultra.instance_type, ultra.context_tokens, ultra.max_input_length) == ("ml.g5.12xlarge", 2048, 2047)
    assert ultra.instance_note == ("ml.g5.12xlarge: the cheapest instance ai21-j2-ultra supports ($7.09/h us-east-1 "
                                   "list price; 2048-token context; ml.p4d.24xlarge serves 8191)")
    assert ultra.model_package_arn == ULTRA_US_EAST_1


def test_a_costlier_named_instance_is_kept_with_the_cheaper_one_in_a_note():
    [ultra, _] = resolve_endpoints(parse_config(config(instance_type="ml.p4d.24xlarge")))
    assert (ultra.instance_type, ultra.context_tokens) == ("ml.p4d.24xlarge", 8191)
    assert ultra.instance_note == ("ml.g5.12xlarge is also supported ($7.09/h, 2048-token context against 8191): "
                                   "$22,336.54/month less per instance than ml.p4d.24xlarge")


def test_package_arn_follows_the_region():
    [ultra, _] = resolve_endpoints(parse_config(config(region="eu-west-1")))
    assert ultra.model_package_arn == ("arn:aws:sagemaker:eu-west-1:985815980388:model-package/"
                                       "j2-ultra-v2-1-000-9a64fc1ffb633dc0a86fd4330c43a90a")


# -- templates ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def example():
    return synth(CONFIGS["ai21-marketplace"])


@pytest.fixture(scope="module")
def endpoints(example) -> dict:
    return example.template(example.deployment.endpoints)


def _resources(template: dict, rtype: str, prefix: str) -> dict[str, dict]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == rtype and lid.startswith(prefix)}


def test_model_is_the_package_with_network_isolation_and_no_image_or_artifacts(endpoints):
    [model] = _resources(endpoints, "AWS::SageMaker::Model", "J2Ultra").values()
    props = model["Properties"]
    assert props["Containers"] == [{"ModelPackageName": ULTRA_US_EAST_1}]
    assert props["EnableNetworkIsolation"] is True
    assert not {"PrimaryContainer", "ModelName", "VpcConfig"} & set(props)
    assert not {"Image", "ModelDataUrl", "ModelDataSource", "Environment"} & set(props["Containers"][0])


def test_endpoint_config_uses_the_chosen_instance_and_ai21s_start_up_timeouts(endpoints):
    [config_] = _resources(endpoints, "AWS::SageMaker::EndpointConfig", "J2Ultra").values()
    [variant] = config_["Properties"]["ProductionVariants"]
    assert (variant["InstanceType"], variant["ModelDataDownloadTimeoutInSeconds"],
            variant["ContainerStartupHealthCheckTimeoutInSeconds"]) == ("ml.g5.12xlarge", 3600, 600)
    assert "KmsKeyId" not in config_["Properties"]  # ml.g5 has local NVMe
    assert config_["Properties"]["DataCaptureConfig"]["EnableCapture"] is True


def test_endpoint_has_autoscaling_and_the_alarms_of_a_jumpstart_endpoint(endpoints):
    assert len(_resources(endpoints, "AWS::SageMaker::Endpoint", "J2Ultra")) == 1
    assert len(_resources(endpoints, "AWS::ApplicationAutoScaling::ScalableTarget", "J2Ultra")) == 1
    alarms = _resources(endpoints, "AWS::CloudWatch::Alarm", "J2Ultra").values()
    assert sorted(a["Properties"]["MetricName"] for a in alarms) == [
        "DiskUtilization", "Invocation5XXErrors", "ModelLatency"]


def test_execution_role_may_log_and_capture_only(endpoints):
    [policy] = _resources(endpoints, "AWS::IAM::ManagedPolicy", "J2Ultra").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == ["cloudwatch:PutMetricData", "kms:Encrypt", "kms:GenerateDataKey", "logs:CreateLogGroup",
                       "logs:CreateLogStream", "logs:PutLogEvents", "s3:PutObject"]
    [metrics] = [s for s in statements if s["Action"] == "cloudwatch:PutMetricData"]
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": ["AWS/SageMaker",
                                                                               "/aws/sagemaker/Endpoints"]}}
    capture = next(s for s in statements if s["Action"] == "s3:PutObject")
    assert json.dumps(capture["Resource"]).endswith('"/datacapture/j2-ultra/*"]]}')
    [role] = _resources(endpoints, "AWS::IAM::Role", "J2Ultra").values()
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "sagemaker.amazonaws.com"}


def test_front_door_gets_an_ai21_entry_with_the_instances_context(example):
    models = {m["name"]: m for m in frontdoor_models(example.deployment.config, {"j2-ultra": "ep-j2",
                                                     "falcon-7b-instruct": "ep-falcon"}, example.deployment.resolved)}
    assert models["j2-ultra"] == {
        "name": "j2-ultra", "model_id": "ai21-j2-ultra", "endpoint_name": "ep-j2", "family": "ai21-j2",
        "kind": "text", "max_input_length": 2047, "max_total_tokens": 2048, "instance_type": "ml.g5.12xlarge",
        "instance_count": 1, "default": True}
    from inference.catalog import Catalog  # the Lambda's own parser accepts it

    assert Catalog.from_json(json.dumps(list(models.values()))).resolve(None, "text").name == "j2-ultra"


def test_package_in_a_vpc_gets_vpc_config_and_eni_permissions():
    from stacks.constructs.model_hosting import ModelNetwork
    from stacks.endpoints_stack import EndpointsStack

    app = cdk.App(context=cli_context())
    cfg = parse_config(config())
    stack = EndpointsStack(app, "Endpoints", config=cfg, resolved=resolve_endpoints(cfg),
                           network=ModelNetwork(["subnet-0123456789abcdef0"], ["sg-0123456789abcdef0"]))
    template = Template.from_stack(stack).to_json()
    [model] = _resources(template, "AWS::SageMaker::Model", "J2Ultra").values()
    assert model["Properties"]["VpcConfig"] == {"SecurityGroupIds": ["sg-0123456789abcdef0"],
                                                "Subnets": ["subnet-0123456789abcdef0"]}
    [policy] = _resources(template, "AWS::IAM::ManagedPolicy", "J2Ultra").values()
    assert any(s.get("Sid") == "AttachToVpc" for s in policy["Properties"]["PolicyDocument"]["Statement"])
