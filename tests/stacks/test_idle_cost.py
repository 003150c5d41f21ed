"""Idle-cost controls in the templates: off by default; the sleepy example's
schedules, idle sleeper and front-door wake grant, each least-privilege."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from tests.synth import CONFIGS, synth


@pytest.fixture(scope="module")
def sleepy():
    return synth(CONFIGS["sleepy"])


@pytest.fixture(scope="module")
def endpoints(sleepy) -> Template:
    return Template.from_json(sleepy.template(sleepy.deployment.endpoints))


@pytest.fixture(scope="module")
def api(sleepy) -> Template:
    return Template.from_json(sleepy.template(sleepy.deployment.api))


def _logical_id(template: Template, rtype: str, contains: str) -> str:
    [lid] = [lid for lid in template.find_resources(rtype) if contains in lid]
    return lid


def _models_json(api: Template) -> str:
    [fn] = [f for f in api.find_resources("AWS::Lambda::Function").values()
            if f["Properties"]["Handler"] == "frontdoor.handler.lambda_handler"]
    return json.dumps(fn["Properties"]["Environment"]["Variables"]["MODELS_JSON"])


def _statements(template: Template, role_contains: str) -> list[dict]:
    policies = template.find_resources("AWS::IAM::ManagedPolicy")
    [doc] = [p["Properties"]["PolicyDocument"] for lid, p in policies.items() if role_contains in lid]
    return doc["Statement"]


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


# governed.yaml sleeps its model too, so that its idle checker runs in the VPC.
@pytest.mark.parametrize("config", sorted(set(CONFIGS) - {"sleepy", "governed"}))
def test_idle_cost_controls_are_off_by_default(config):
    # Given a shipped config without `sleep`
    s = synth(CONFIGS[config])
    # (the Studio stack's notebook guardrails and reaper create and delete *notebook* endpoints on
    # a schedule by design: issue 21, tests/studio; the platform's endpoints are the question here)
    templates = json.dumps({name: t for name, t in s.templates().items() if name != "Studio"})
    # Then nothing schedules, deletes or wakes the platform's endpoints
    for needle in ("AWS::Scheduler::Schedule", "sagemaker:CreateEndpoint", "sagemaker:DeleteEndpoint",
                   "wakeable", "idle_sleeper"):
        assert needle not in templates, (config, needle)


def test_working_hours_schedules_are_time_zone_aware_and_call_sagemaker_directly(endpoints):
    endpoint = _logical_id(endpoints, "AWS::SageMaker::Endpoint", "Falcon7bInstruct")
    config = _logical_id(endpoints, "AWS::SageMaker::EndpointConfig", "Falcon7bInstruct")
    endpoints.has_resource_properties("AWS::Scheduler::Schedule", {
        "ScheduleExpression": "cron(0 19 ? * MON-FRI *)",
        "ScheduleExpressionTimezone": "Europe/Berlin",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED",
        "Target": Match.object_like({
            "Arn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":scheduler:::aws-sdk:sagemaker:deleteEndpoint"]]},
            "Input": {"Fn::Join": ["", ['{"EndpointName":"', {"Fn::GetAtt": [endpoint, "EndpointName"]}, '"}']]},
        }),
    })
    endpoints.has_resource_properties("AWS::Scheduler::Schedule", {
        "ScheduleExpression": "cron(0 8 ? * MON-FRI *)",
        "ScheduleExpressionTimezone": "Europe/Berlin",
        "Target": Match.object_like({
            "Arn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":scheduler:::aws-sdk:sagemaker:createEndpoint"]]},
            # The same name and the current config: CloudFormation's record stays true.
            "Input": {"Fn::Join": ["", [
                '{"EndpointName":"', {"Fn::GetAtt": [endpoint, "EndpointName"]},
                '","EndpointConfigName":"', {"Fn::GetAtt": [config, "EndpointConfigName"]}, '"}',
            ]]},
        }),
    })


def test_schedule_role_may_only_delete_and_recreate_this_endpoint(endpoints):
    endpoint = _logical_id(endpoints, "AWS::SageMaker::Endpoint", "Falcon7bInstruct")
    config = _logical_id(endpoints, "AWS::SageMaker::EndpointConfig", "Falcon7bInstruct")
    statements = _statements(endpoints, "SleepScheduleRolePolicy")
    for statement in statements:
        if isinstance(statement["Resource"], list):
            statement["Resource"] = sorted(statement["Resource"], key=json.dumps)
    assert statements == [
        {"Action": "sagemaker:DeleteEndpoint", "Effect": "Allow", "Resource": {"Ref": endpoint}},
        {"Action": "sagemaker:CreateEndpoint", "Effect": "Allow",
         "Resource": sorted([{"Ref": endpoint}, {"Ref": config}], key=json.dumps)},
    ]
    role = endpoints.find_resources("AWS::IAM::Role")[_logical_id(endpoints, "AWS::IAM::Role", "SleepScheduleRole")]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_sleeping_endpoint_has_no_scalable_target_but_keeps_model_and_config(endpoints):
    # DeleteEndpoint deregisters scalable targets; none is declared, so none goes stale.
    endpoints.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)
    endpoints.resource_count_is("AWS::SageMaker::Model", 1)
    endpoints.resource_count_is("AWS::SageMaker::EndpointConfig", 1)


def test_wake_recipe_parameter_tracks_the_current_endpoint_config(endpoints):
    config = _logical_id(endpoints, "AWS::SageMaker::EndpointConfig", "Falcon7bInstruct")
    endpoints.has_resource_properties("AWS::SSM::Parameter", {
        "Name": "/fm-sleepy/endpoints/falcon-7b-instruct/endpoint-config-name",
        "Type": "String",
        "Value": {"Fn::GetAtt": [config, "EndpointConfigName"]},
    })


def test_idle_sleeper_runs_hourly_with_the_idle_window_in_its_environment(endpoints):
    function = _logical_id(endpoints, "AWS::Lambda::Function", "IdleSleeper")
    props = endpoints.find_resources("AWS::Lambda::Function")[function]["Properties"]
    assert props["Handler"] == "idle_sleeper.handler.lambda_handler"
    assert "ReservedConcurrentExecutions" not in props and props["Architectures"] == ["arm64"]
    env = json.dumps(props["Environment"]["Variables"]["ENDPOINTS_JSON"])
    assert '\\"variant_name\\":\\"AllTraffic\\",\\"idle_after_hours\\":2' in env
    endpoints.has_resource_properties("AWS::Scheduler::Schedule", {
        "ScheduleExpression": "rate(1 hour)",
        "Target": Match.object_like({"Arn": {"Fn::GetAtt": [function, "Arn"]},
                                     "RetryPolicy": {"MaximumEventAgeInSeconds": 1800, "MaximumRetryAttempts": 0}}),
    })


def test_idle_sleeper_may_only_describe_and_delete_watched_endpoints(endpoints):
    endpoint = _logical_id(endpoints, "AWS::SageMaker::Endpoint", "Falcon7bInstruct")
    statements = {s.get("Sid"): s for s in _statements(endpoints, "IdleSleeperCheckerRolePolicy")}
    assert statements["DescribeAndDeleteIdleEndpoints"]["Resource"] == {"Ref": endpoint}
    assert sorted(_actions(statements["DescribeAndDeleteIdleEndpoints"])) == [
        "sagemaker:DeleteEndpoint", "sagemaker:DescribeEndpoint"]
    assert statements["ReadInvocationMetrics"]["Action"] == "cloudwatch:GetMetricData"
    all_actions = {a for s in statements.values() for a in _actions(s)}
    assert "sagemaker:CreateEndpoint" not in all_actions


def test_models_json_marks_the_sleepy_model_wakeable(api):
    models = _models_json(api)
    assert '\\"wakeable\\":true' in models
    assert '\\"endpoint_config_parameter\\":\\"/fm-sleepy/endpoints/falcon-7b-instruct/endpoint-config-name\\"' in models


def test_front_door_may_wake_only_this_deployments_sleeping_endpoint(api):
    statements = {s.get("Sid"): s for s in _statements(api, "FrontDoorHandlerRolePolicy")}
    wake = statements["WakeSleepingEndpoints"]
    assert wake["Action"] == "sagemaker:CreateEndpoint"
    endpoint_arn, configs = wake["Resource"]
    assert "Falcon7bInstructEndpoint" in json.dumps(endpoint_arn)  # exact, from the Endpoints stack
    # The config name is read at wake time, so its ARN cannot be exact (see endpoint_sleep.grant_wake).
    assert configs == {"Fn::Join": ["", ["arn:aws:sagemaker:eu-central-1:", {"Ref": "AWS::AccountId"},
                                         ":endpoint-config/*"]]}
    assert statements["SeeSleepingEndpoints"]["Resource"] == endpoint_arn
    assert statements["ReadWakeRecipes"] == {
        "Sid": "ReadWakeRecipes", "Action": "ssm:GetParameter", "Effect": "Allow",
        "Resource": {"Fn::Join": ["", ["arn:aws:ssm:eu-central-1:", {"Ref": "AWS::AccountId"},
                                       ":parameter/fm-sleepy/endpoints/falcon-7b-instruct/endpoint-config-name"]]},
    }


def test_summarization_worker_cannot_wake_models(api):
    statements = _statements(api, "FrontDoorJobsWorkerRolePolicy")
    assert not any("sagemaker:CreateEndpoint" in _actions(s) for s in statements)
