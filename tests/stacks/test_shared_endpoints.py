"""Shared endpoints (issue 11): inference components on one endpoint, scale to zero.

Refusals first (config + resolution, no synth: each names the field and the fix), then
the synthesized example config/examples/shared-endpoint.yaml: the endpoint config, the
inference components, copy autoscaling and the scale-out-from-zero path, IAM scoping,
the front door's MODELS_JSON and the Api 5XX alarm.

Sources cited by the assertions: SageMaker Developer Guide, "Scale an endpoint to zero
instances" (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html);
CloudFormation AWS::SageMaker::InferenceComponent and AWS::SageMaker::EndpointConfig
ProductionVariant / ManagedInstanceScaling; SageMaker API reference,
InferenceComponentContainerSpecification (ArtifactUrl is a single .tar.gz).
"""

from __future__ import annotations

import copy
import json

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Match, Template

from stacks.config import catalog
from stacks.app_builder import build_app
from stacks.config import ConfigError, load_config, parse_config
from stacks.models.jumpstart import resolve_endpoints
from stacks.contract.lambda_env import frontdoor_models
from stacks.models.placement import instances_needed, reference_instance
from stacks.models.shared_endpoints import IC_NAME_MAX, check_models, component_name, resolve_shared_endpoints
from tests.synth import CONFIGS, cli_context, synth

FALCON_7B = "huggingface-llm-falcon-7b-instruct-bf16"
FALCON_7B_BASE = "huggingface-llm-falcon-7b-bf16"
FALCON_40B = "huggingface-llm-falcon-40b-instruct-bf16"

BASE = {
    "project_name": "fm-test",
    "region": "us-east-1",
    "shared_endpoints": [
        {
            "name": "text",
            "instance_type": "ml.g5.12xlarge",
            "min_instances": 0,
            "max_instances": 1,
            "models": [
                {"model_id": FALCON_7B, "accelerators": 1, "min_copies": 0, "max_copies": 2},
                {"model_id": FALCON_7B_BASE, "accelerators": 1, "min_copies": 0, "max_copies": 2},
            ],
        }
    ],
}


def shared(**changes) -> dict:
    data = copy.deepcopy(BASE)
    data["shared_endpoints"][0].update(changes)
    return data


def with_model(index: int, **changes) -> dict:
    data = copy.deepcopy(BASE)
    data["shared_endpoints"][0]["models"][index].update(changes)
    return data


def resolve(data: dict):
    config = parse_config(data)
    classic = resolve_endpoints(config)
    resolved = resolve_shared_endpoints(config)
    check_models(classic, resolved)
    return resolved


def refusal(data: dict) -> str:
    with pytest.raises(ConfigError) as err:
        resolve(data)
    return str(err.value)


# -- the config ---------------------------------------------------------------------


def test_example_resolves_two_7b_models_on_one_4_gpu_instance_scaling_to_zero():
    [endpoint] = resolve_shared_endpoints(load_config(CONFIGS["shared-endpoint"]))
    assert (endpoint.instance_type, endpoint.min_instances, endpoint.max_instances) == ("ml.g5.12xlarge", 0, 1)
    assert [(c.model_id, c.accelerators, c.min_copies) for c in endpoint.components] == [
        (FALCON_7B, 1, 0), (FALCON_7B_BASE, 1, 0)
    ]
    # One GPU of an ml.g5.12xlarge is the hardware JumpStart lists Falcon-7B on (ml.g5.2xlarge).
    assert {c.reference_instance_type for c in endpoint.components} == {"ml.g5.2xlarge"}
    assert all(c.environment["SM_NUM_GPUS"] == "1" for c in endpoint.components)
    # Each model deploys with one copy (the deploy proves it loads); both fit on one instance.
    assert endpoint.initial_instances == 1


def test_classic_endpoints_may_be_empty_but_some_model_is_required():
    assert resolve(BASE)
    msg = str(pytest.raises(ConfigError, parse_config, {"endpoints": []}).value)
    assert msg.startswith("shared_endpoints: no model configured: add one under `endpoints`")


def test_unknown_fields_of_a_shared_model_list_the_allowed_ones():
    msg = str(pytest.raises(ConfigError, parse_config, with_model(0, copies=2)).value)
    assert msg.startswith("shared_endpoints[0].models[0].copies: unknown field; allowed: model_id, name,")
    assert "accelerators" in msg and "min_copies" in msg


def test_accelerators_are_whole_gpus():
    msg = str(pytest.raises(ConfigError, parse_config, with_model(0, accelerators=1.5)).value)
    assert msg.startswith("shared_endpoints[0].models[0].accelerators: Input should be a valid integer")
    msg = str(pytest.raises(ConfigError, parse_config, with_model(0, accelerators=0)).value)
    assert msg.startswith("shared_endpoints[0].models[0].accelerators: Input should be greater than 0")


def test_more_accelerators_than_the_instance_has_are_refused():
    msg = refusal(with_model(0, accelerators=5))
    assert msg == (
        "shared_endpoints[0].models[0].accelerators: falcon-7b-instruct asks for 5 GPUs per copy but "
        "ml.g5.12xlarge has 4 (A10G); a copy runs on one instance: at most 4"
    )


def test_more_copies_than_gpus_are_refused():
    msg = refusal(with_model(0, max_copies=5))
    assert msg == (
        "shared_endpoints[0].models[0].max_copies: 5 copies of falcon-7b-instruct (1 GPU(s) each) do not fit "
        "on max_instances 1 x ml.g5.12xlarge (4 x A10G, 192 GiB host memory; 4 copies per instance); lower "
        "max_copies to 4 or raise max_instances"
    )


def test_a_copy_that_does_not_fit_its_accelerators_memory_is_refused():
    data = shared(models=[{"model_id": FALCON_40B, "accelerators": 2}])
    msg = refusal(data)
    assert msg == (
        "shared_endpoints[0].models[0].accelerators: one copy of huggingface-llm-falcon-40b-instruct-bf16 "
        "needs ~82.4 GiB of GPU memory (bf16 weights 74.9 GiB x 1.1 headroom) but 2 x A10G (24 GiB each) "
        "hold 48 GiB; set accelerators: 4"
    )


def test_an_unsupported_instance_type_is_refused_with_jumpstarts_list():
    msg = refusal(shared(instance_type="ml.g4dn.12xlarge", models=[{"model_id": FALCON_7B, "accelerators": 1}]))
    assert msg == (
        "shared_endpoints[0].instance_type: huggingface-llm-falcon-7b-instruct-bf16 is not supported on 1 "
        "GPU(s) of ml.g4dn.12xlarge: neither the instance type nor a g4dn instance type with 1 GPU(s) is in "
        "JumpStart's supported list; JumpStart supports it on: ml.g5.2xlarge, ml.g5.4xlarge, ml.g5.8xlarge, "
        "ml.g5.16xlarge; choose a shared instance type of those families"
    )


def test_a_gpu_count_jumpstart_does_not_list_for_the_model_is_refused():
    # Falcon-7B is listed on 1-GPU ml.g5 types only (its 71 attention heads do not shard).
    msg = refusal(with_model(0, accelerators=2))
    assert msg.startswith(
        "shared_endpoints[0].models[0].accelerators: huggingface-llm-falcon-7b-instruct-bf16 is not supported "
        "on 2 GPU(s) of ml.g5.12xlarge"
    )
    assert msg.endswith("JumpStart supports it on 1 A10G GPU(s) of the g5 family; set accelerators to one of these")


def test_reference_instance_is_the_listed_type_or_a_same_family_one_with_as_many_gpus():
    known = catalog.instances().instances
    listed = ["ml.g5.2xlarge", "ml.g5.4xlarge", "ml.g5.12xlarge"]
    assert reference_instance(listed, "ml.g5.12xlarge", 2, known) == "ml.g5.12xlarge"
    assert reference_instance(listed[:2], "ml.g5.12xlarge", 1, known) == "ml.g5.2xlarge"  # cheapest 1-GPU g5
    assert reference_instance(listed[:2], "ml.g5.12xlarge", 2, known) is None
    assert reference_instance(listed[:2], "ml.g6.12xlarge", 1, known) is None  # another GPU (L4)


def test_a_copy_minimum_that_cannot_fit_min_instances_is_refused():
    data = shared(min_instances=1, max_instances=2)
    data["shared_endpoints"][0]["models"][0].update(min_copies=3, max_copies=3)
    data["shared_endpoints"][0]["models"][1].update(min_copies=2, max_copies=2)
    msg = refusal(data)
    assert msg == (
        "shared_endpoints[0].min_instances: the models' min_copies (falcon-7b-instruct 3, falcon-7b 2) take 5 "
        "GPU(s) and need 2 instance(s) of ml.g5.12xlarge (4 x A10G, 192 GiB host memory), but min_instances "
        "is 1; raise min_instances to 2 or lower min_copies"
    )


def test_copies_at_zero_on_billed_instances_are_refused():
    msg = refusal(shared(min_instances=1))
    assert msg == (
        "shared_endpoints[0].min_instances: every model scales to zero copies (min_copies 0), so "
        "min_instances 1 keeps 1 x ml.g5.12xlarge ($7.09/h each) billed with nothing on them; set "
        "min_instances: 0 (scale to zero), or min_copies: 1 on the model to keep warm (it then answers at "
        "once, for the same price)"
    )


def test_a_warm_model_on_a_billed_instance_is_accepted():
    data = with_model(0, min_copies=1)
    data["shared_endpoints"][0]["min_instances"] = 1
    [endpoint] = resolve(data)
    assert (endpoint.min_instances, endpoint.initial_instances) == (1, 1)


def test_one_copy_of_every_model_must_fit_max_instances_at_deploy():
    data = shared(models=[{"model_id": FALCON_40B, "accelerators": 4}, {"model_id": FALCON_7B, "accelerators": 1}])
    msg = refusal(data)
    assert msg == (
        "shared_endpoints[0].max_instances: every model starts one copy when deployed (so the deploy proves it "
        "loads): 5 GPU(s) for 2 model(s), more than max_instances 1 x ml.g5.12xlarge (4 x A10G, 192 GiB host "
        "memory) hold; raise max_instances or move a model to another shared endpoint"
    )
    [endpoint] = resolve(shared(max_instances=2, models=data["shared_endpoints"][0]["models"]))
    assert endpoint.initial_instances == 2


def test_host_memory_per_copy_is_bounded_by_the_instance():
    msg = refusal(with_model(0, memory_mib=200 * 1024))
    assert msg.startswith(
        "shared_endpoints[0].models[0].memory_mib: falcon-7b-instruct reserves 204800 MiB of host memory per copy "
        "but ml.g5.12xlarge has 196608 MiB (192 GiB) in all"
    )
    # Memory counts when packing: 3 copies of 100 GiB need 2 instances of 192 GiB.
    data = with_model(0, memory_mib=100 * 1024, max_copies=3)
    assert "max_copies" in refusal(data)


def test_default_memory_is_the_weights_rounded_up_to_a_gib():
    [endpoint] = resolve(BASE)
    assert [c.memory_mib for c in endpoint.components] == [13 * 1024, 13 * 1024]  # Falcon-7B: 12.9 GiB


def test_sm_num_gpus_is_the_accelerators():
    msg = refusal(with_model(0, environment={"SM_NUM_GPUS": "4"}))
    assert msg.startswith("shared_endpoints[0].models[0].environment: SM_NUM_GPUS (4) must equal accelerators (1)")
    [endpoint] = resolve(with_model(0, environment={"MAX_INPUT_LENGTH": "512"}))
    assert endpoint.components[0].max_input_length == 512


def test_data_capture_is_refused_on_a_shared_endpoint_with_the_reason():
    msg = str(pytest.raises(ConfigError, parse_config, with_model(0, data_capture={"enabled": True})).value)
    assert msg.startswith(
        "shared_endpoints[0].models[0].data_capture: data capture is not available for a model on a shared "
        "endpoint: SageMaker configures capture on the endpoint config"
    )
    assert parse_config(with_model(0, data_capture={"enabled": False}))


def test_names_are_unique_across_classic_and_shared_endpoints():
    data = copy.deepcopy(BASE) | {"endpoints": [{"model_id": FALCON_7B, "instance_type": "ml.g5.2xlarge"}]}
    assert refusal(data) == (
        "shared_endpoints[0].models[0].name: name 'falcon-7b-instruct' is already used by endpoints[0]; "
        "set a unique name"
    )
    renamed = copy.deepcopy(data)
    renamed["shared_endpoints"][0]["models"][0]["name"] = "falcon-shared"
    assert resolve(renamed)
    dupes = with_model(1, name="falcon-7b-instruct")
    assert refusal(dupes).startswith("shared_endpoints[0].models[1].name: name 'falcon-7b-instruct' is already used")


def test_a_shared_endpoint_may_not_be_named_like_a_model():
    assert refusal(shared(name="falcon-7b")) == (
        "shared_endpoints[0].name: 'falcon-7b' is also the name of the model at shared_endpoints[0].models[1]; "
        "give the shared endpoint another name"
    )


def test_one_default_per_kind_across_classic_and_shared_endpoints():
    data = with_model(0, default=True) | {
        "endpoints": [{"model_id": FALCON_7B, "name": "classic", "instance_type": "ml.g5.2xlarge", "default": True}]
    }
    assert refusal(data) == (
        "shared_endpoints[0].models[0].default: only one text model may be the default; endpoints[0], "
        "shared_endpoints[0].models[0] all say default: true"
    )


def test_gated_models_need_the_eula_on_a_shared_endpoint_too():
    data = shared(models=[{"model_id": "meta-textgeneration-llama-2-7b-f", "accelerators": 1}])
    assert refusal(data).startswith("shared_endpoints[0].models[0].accept_eula: meta-textgeneration-llama-2-7b-f is a gated")


def test_instance_counts_and_copy_counts_are_ordered():
    assert "min_instances (2) must be <= max_instances (1)" in str(
        pytest.raises(ConfigError, parse_config, shared(min_instances=2)).value)
    assert "min_copies (3) must be <= max_copies (2)" in str(
        pytest.raises(ConfigError, parse_config, with_model(0, min_copies=3)).value)


def test_an_instance_type_without_pinned_facts_is_refused():
    assert refusal(shared(instance_type="ml.g6e.12xlarge")).startswith(
        "shared_endpoints[0].instance_type: no pinned facts for 'ml.g6e.12xlarge'")


def test_component_names_fit_sagemaker_and_change_with_the_endpoint_identity():
    name = component_name("a" * 24, "shared", "ml.g5.12xlarge", "m" * 40)
    assert len(name) <= IC_NAME_MAX and name[0].isalnum() and name[-1].isalnum()
    base = component_name("fm", "text", "ml.g5.12xlarge", "falcon-7b")
    assert base.startswith("fm-falcon-7b-")
    assert component_name("fm", "text", "ml.g5.24xlarge", "falcon-7b") != base  # instance type: a new IC
    assert component_name("fm", "other", "ml.g5.12xlarge", "falcon-7b") != base


def test_packing_is_exact_where_a_gpu_sum_is_not_enough():
    g5 = catalog.instances().instances["ml.g5.12xlarge"]
    gib = 1024
    # 3 + 3 + 2 GPUs: 8 GPUs in all, yet two 4-GPU instances cannot hold them.
    assert instances_needed([(3, gib), (3, gib), (2, gib)], g5, 3) == 3
    assert instances_needed([(3, gib), (1, gib), (2, gib), (2, gib)], g5, 3) == 2
    assert instances_needed([], g5, 0) == 0
    assert instances_needed([(5, gib)], g5, 9) is None


def test_cost_shares_and_the_classic_comparison():
    [endpoint] = resolve_shared_endpoints(load_config(CONFIGS["shared-endpoint"]))
    assert (endpoint.usd_per_hour_min, endpoint.usd_per_hour_max) == (0.0, 7.09)
    # Each model's 2 copies x 1 GPU take half of the instance's 4 GPUs at max.
    assert [round(endpoint.share_usd_per_hour(c, "max"), 3) for c in endpoint.components] == [3.545, 3.545]
    # Classic: each model alone on JumpStart's cheapest fitting instance (ml.g5.2xlarge), always on.
    assert [c.classic_instance_type for c in endpoint.components] == ["ml.g5.2xlarge", "ml.g5.2xlarge"]
    assert endpoint.classic_usd_per_hour == pytest.approx(3.03)
    assert endpoint.break_even_fraction == pytest.approx(3.03 / 7.09)


# -- the front door's view ----------------------------------------------------------


def test_models_json_names_the_shared_endpoint_and_each_inference_component():
    config = load_config(CONFIGS["shared-endpoint"])
    [endpoint] = resolve_shared_endpoints(config)
    models = frontdoor_models(config, {"text": "ENDPOINT-TOKEN"})
    assert [m["name"] for m in models] == ["falcon-7b-instruct", "falcon-7b"]
    for m, c in zip(models, endpoint.components):
        assert m == {
            "name": c.name, "model_id": c.model_id, "endpoint_name": "ENDPOINT-TOKEN", "family": "falcon",
            "kind": "text", "max_input_length": 1024, "max_total_tokens": 2048, "instance_type": "ml.g5.12xlarge",
            "instance_count": 1, "default": c.is_default, "inference_component": c.component_name,
        }


def test_classic_models_json_entries_do_not_change():
    config = load_config(CONFIGS["default"])
    [entry] = frontdoor_models(config, {"falcon-7b-instruct": "E"})
    assert "inference_component" not in entry and entry["endpoint_name"] == "E"


# -- the synthesized example --------------------------------------------------------


@pytest.fixture(scope="module")
def example():
    return synth(CONFIGS["shared-endpoint"])


@pytest.fixture(scope="module")
def endpoints(example) -> Template:
    return Template.from_json(example.template(example.deployment.endpoints))


def test_endpoint_config_has_execution_role_managed_instance_scaling_to_zero_and_routing(endpoints):
    [config] = endpoints.find_resources("AWS::SageMaker::EndpointConfig").values()
    props = config["Properties"]
    # Required for inference components: the endpoint config names the execution role.
    [role_id, attribute] = props["ExecutionRoleArn"]["Fn::GetAtt"]
    assert role_id.startswith("SharedTextExecutionRole") and attribute == "Arn"
    assert props["EnableNetworkIsolation"] is True
    [variant] = props["ProductionVariants"]
    assert variant["ManagedInstanceScaling"] == {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 1}
    assert variant["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
    assert variant["InstanceType"] == "ml.g5.12xlarge" and variant["InitialInstanceCount"] == 1
    # Inference components bring the models: the variant names none.
    assert "ModelName" not in variant
    # ml.g5 has local NVMe: no volume key (CreateEndpointConfig rejects it), and no capture.
    assert "KmsKeyId" not in props and "DataCaptureConfig" not in props
    assert variant["ModelDataDownloadTimeoutInSeconds"] == variant["ContainerStartupHealthCheckTimeoutInSeconds"] == 1200


def test_managed_instance_scaling_only_on_the_shared_endpoint():
    """SageMaker accepts ManagedInstanceScaling only on endpoints that host inference
    components: no classic endpoint config of any shipped config carries it."""
    for name, path in CONFIGS.items():
        s = synth(path)
        for template in s.templates().values():
            for config in Template.from_json(template).find_resources("AWS::SageMaker::EndpointConfig").values():
                for variant in config["Properties"]["ProductionVariants"]:
                    if "ModelName" in variant:
                        assert "ManagedInstanceScaling" not in variant, name


def test_each_model_is_an_inference_component_on_the_endpoint(endpoints, example):
    [endpoint] = example.deployment.shared
    components = endpoints.find_resources("AWS::SageMaker::InferenceComponent")
    assert len(components) == 2
    for c in endpoint.components:
        endpoints.has_resource_properties("AWS::SageMaker::InferenceComponent", {
            "InferenceComponentName": c.component_name,
            "EndpointName": {"Fn::GetAtt": [Match.string_like_regexp("SharedTextEndpointG512xlargeEndpoint"),
                                            "EndpointName"]},
            "VariantName": "AllTraffic",
            "RuntimeConfig": {"CopyCount": 1},
            "Specification": {
                "ModelName": {"Fn::GetAtt": [Match.any_value(), "ModelName"]},
                "ComputeResourceRequirements": {
                    "NumberOfAcceleratorDevicesRequired": 1, "MinMemoryRequiredInMb": 13 * 1024,
                },
                "StartupParameters": {
                    "ModelDataDownloadTimeoutInSeconds": 1200, "ContainerStartupHealthCheckTimeoutInSeconds": 1200,
                },
            },
        })
        # The model behind it: JumpStart's image, artifacts (an S3 prefix: a Model, not an
        # inline container, whose ArtifactUrl must be one .tar.gz) and SM_NUM_GPUS = accelerators.
        endpoints.has_resource_properties("AWS::SageMaker::Model", {
            "EnableNetworkIsolation": True,
            "PrimaryContainer": {
                "Image": c.image_uri,
                "ModelDataSource": {"S3DataSource": {"S3Uri": c.artifact_s3_uri, "S3DataType": "S3Prefix",
                                                     "CompressionType": "None"}},
                "Environment": Match.object_like({"SM_NUM_GPUS": "1", "MAX_INPUT_LENGTH": "1024"}),
            },
        })


def test_copy_count_autoscaling_goes_to_zero_and_back(endpoints, example):
    """Per the SageMaker guide: a scalable target on DesiredCopyCount with min 0 and a target
    tracking policy; for scale-out from zero a step policy (+1, ChangeInCapacity) run by an
    alarm on NoCapacityInvocationFailures of that inference component."""
    [endpoint] = example.deployment.shared
    targets = endpoints.find_resources("AWS::ApplicationAutoScaling::ScalableTarget")
    policies = endpoints.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy")
    alarms = endpoints.find_resources("AWS::CloudWatch::Alarm")
    for c in endpoint.components:
        [(target_id, target)] = [
            (lid, t) for lid, t in targets.items() if t["Properties"]["ResourceId"] == f"inference-component/{c.component_name}"
        ]
        assert target["Properties"]["ScalableDimension"] == "sagemaker:inference-component:DesiredCopyCount"
        assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (0, 2)
        assert "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint" in json.dumps(target["Properties"]["RoleARN"])
        assert any("Component" in dep for dep in target.get("DependsOn", []))
        mine = {lid: p["Properties"] for lid, p in policies.items() if p["Properties"]["ScalingTargetId"] == {"Ref": target_id}}
        [tracking] = [p for p in mine.values() if p["PolicyType"] == "TargetTrackingScaling"]
        assert tracking["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"] == {
            "PredefinedMetricType": "SageMakerInferenceComponentInvocationsPerCopy"}
        [(step_id, step)] = [(lid, p) for lid, p in mine.items() if p["PolicyType"] == "StepScaling"]
        assert step["StepScalingPolicyConfiguration"] | {"Cooldown": None} == {
            "AdjustmentType": "ChangeInCapacity", "MetricAggregationType": "Maximum", "Cooldown": None,
            "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
        }
        [alarm] = [a["Properties"] for a in alarms.values() if a["Properties"].get("MetricName") == "NoCapacityInvocationFailures"
                   and a["Properties"]["Dimensions"] == [{"Name": "InferenceComponentName", "Value": c.component_name}]]
        assert alarm["Namespace"] == "AWS/SageMaker" and alarm["AlarmActions"] == [{"Ref": step_id}]
        assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
            "Sum", 60, 1, "GreaterThanOrEqualToThreshold")


def test_a_model_kept_warm_gets_no_scale_out_from_zero_path(tmp_path):
    # Given one model kept at 1 copy on 1 billed instance, the other scaling to zero
    data = with_model(0, min_copies=1)
    data["shared_endpoints"][0]["min_instances"] = 1
    path = tmp_path / "warm.yaml"
    path.write_text(yaml.safe_dump(data))
    app = cdk.App(context={**cli_context(), "config": str(path)}, outdir=str(tmp_path / "out"))
    deployment = build_app(app, str(path), nag=False)
    template = Template.from_stack(deployment.endpoints)
    warm, cold = deployment.shared[0].components
    # Then the variant keeps one instance and only the cold model has the way back from zero
    [config] = template.find_resources("AWS::SageMaker::EndpointConfig").values()
    assert config["Properties"]["ProductionVariants"][0]["ManagedInstanceScaling"]["MinInstanceCount"] == 1
    alarms = [a["Properties"]["Dimensions"][0]["Value"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("MetricName") == "NoCapacityInvocationFailures"]
    assert alarms == [cold.component_name]
    targets = {t["Properties"]["ResourceId"]: t["Properties"]["MinCapacity"]
               for t in template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget").values()}
    assert targets == {f"inference-component/{warm.component_name}": 1, f"inference-component/{cold.component_name}": 0}
    assert len(template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy", {
        "Properties": {"PolicyType": "StepScaling"}})) == 1


def test_endpoint_and_components_carry_the_instance_type_in_their_identity(endpoints):
    """An instance-type change must replace the endpoint and its ICs (SageMaker refuses the
    update on an autoscaled variant), so both logical IDs include the instance type."""
    for rtype in ("AWS::SageMaker::Endpoint", "AWS::SageMaker::InferenceComponent"):
        assert all("EndpointG512xlarge" in lid for lid in endpoints.find_resources(rtype))


def test_execution_role_reads_only_the_models_artifacts_and_images(endpoints):
    roles = endpoints.find_resources("AWS::IAM::Role", {"Properties": {"AssumeRolePolicyDocument": {
        "Statement": [Match.object_like({"Principal": {"Service": "sagemaker.amazonaws.com"}})]}}})
    assert len(roles) == 1
    [policy] = [p for p in endpoints.find_resources("AWS::IAM::ManagedPolicy").values()
                if "ReadModelArtifacts" in json.dumps(p)]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    text = json.dumps(statements["ReadModelArtifacts"]["Resource"])
    assert "huggingface-llm-falcon-7b-bf16/artifacts/inference-prepack/v2.0.0/*" in text
    assert "huggingface-llm-falcon-7b-instruct-bf16/artifacts/inference-prepack/v2.0.0/*" in text
    assert statements["PullModelImages"]["Resource"] == (
        "arn:aws:ecr:us-east-1:763104351884:repository/huggingface-pytorch-tgi-inference")
    assert not any("kms:" in json.dumps(s["Action"]) for s in statements.values())
    assert not any("iam:PassRole" in json.dumps(s["Action"]) for s in statements.values())


def test_front_door_and_worker_may_invoke_exactly_the_endpoint_and_its_components(example):
    api = example.template(example.deployment.api)
    [endpoint] = example.deployment.shared
    outputs = example.template(example.deployment.endpoints)["Outputs"]
    invoke = []
    for lid, resource in api["Resources"].items():
        if resource["Type"] != "AWS::IAM::ManagedPolicy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            if "sagemaker:InvokeEndpoint" in json.dumps(statement["Action"]):
                invoke.append((lid, statement))
    # The streaming function too: both models are TGI models, which stream (issue 12).
    assert {lid.split("Role")[0] for lid, _ in invoke} == {"FrontDoorHandler", "FrontDoorJobsWorker", "FrontDoorStreaming"}
    for lid, statement in invoke:
        produced = [outputs[r["Fn::GetStackOutput"]["OutputName"]]["Value"] for r in statement["Resource"]]
        kinds = sorted((v["Fn::GetAtt"][1] if "Fn::GetAtt" in v else "Ref") for v in produced)
        assert kinds == ["InferenceComponentArn", "InferenceComponentArn", "Ref"]
        [ref] = [v["Ref"] for v in produced if "Ref" in v]
        assert ref.startswith("SharedTextEndpointG512xlargeEndpoint")  # Ref of the endpoint: its ARN
        # Only the streaming function streams (its grant: tests/stacks/test_streaming_api.py); the
        # buffered front door and the jobs worker may not.
        streams = lid.startswith("FrontDoorStreaming")
        assert statement["Action"] == (sorted(["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"])
                                       if streams else "sagemaker:InvokeEndpoint"), lid


def test_front_door_environment_names_the_inference_components(example):
    api = Template.from_json(example.template(example.deployment.api))
    [endpoint] = example.deployment.shared
    text = json.dumps(api.find_resources("AWS::Lambda::Function"))
    for c in endpoint.components:
        assert f'\\"inference_component\\":\\"{c.component_name}\\"' in text


def test_api_5xx_alarm_leaves_out_the_expected_scaling_up_503s(example):
    monitoring = example.template(example.deployment.monitoring)
    [alarm] = [a["Properties"] for a in monitoring["Resources"].values()
               if a["Type"] == "AWS::CloudWatch::Alarm" and "5XX" in a["Properties"].get("AlarmDescription", "")]
    [expression] = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    assert expression == "FILL(errors, 0) - FILL(asleep, 0) - FILL(scaling, 0)"
    api = example.template(example.deployment.api)
    patterns = [r["Properties"]["FilterPattern"] for r in api["Resources"].values() if r["Type"] == "AWS::Logs::MetricFilter"]
    assert any('$.error = "model_scaling_up"' in p for p in patterns)


def test_dashboard_shows_the_shared_endpoint_and_each_model(example):
    monitoring = example.template(example.deployment.monitoring)
    [dashboard] = [r for r in monitoring["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "text (shared)" in body and "NoCapacityInvocationFailures" in body and "InferenceComponentName" in body


def test_default_config_has_no_inference_component():
    s = synth(CONFIGS["default"])
    for template in s.templates().values():
        types = {r["Type"] for r in template["Resources"].values()}
        assert "AWS::SageMaker::InferenceComponent" not in types
