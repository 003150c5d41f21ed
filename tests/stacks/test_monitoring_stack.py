"""Fine-grained assertions on the Monitoring stack: what the dashboard graphs, with
which dimensions, and which alarms reach the Endpoints stack's alarm topic."""

from __future__ import annotations

import json
import tempfile

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Template

from stacks.app_builder import build_app
from stacks.constructs.observability import API_5XX, OLDEST_JOB_AGE_SECONDS
from tests.synth import CONFIGS, REPO, cli_context, synth

ENDPOINT_METRICS = {
    ("AWS/SageMaker", "Invocations"),
    ("AWS/SageMaker", "ModelLatency"),
    ("AWS/SageMaker", "OverheadLatency"),
    ("AWS/SageMaker", "Invocation4XXErrors"),
    ("AWS/SageMaker", "Invocation5XXErrors"),
    ("/aws/sagemaker/Endpoints", "GPUUtilization"),
    ("/aws/sagemaker/Endpoints", "GPUMemoryUtilization"),
    ("/aws/sagemaker/Endpoints", "CPUUtilization"),
}


def _placeholder(token: dict) -> str:
    """A readable stand-in for a token inside the dashboard body's Fn::Join."""
    if "Fn::GetStackOutput" in token:
        return "<{OutputName}>".format(**token["Fn::GetStackOutput"])
    if "Ref" in token:
        return f"<Ref:{token['Ref']}>"
    if "Fn::GetAtt" in token:
        return "<{}.{}>".format(*token["Fn::GetAtt"])
    raise AssertionError(f"unexpected token in dashboard body: {token}")


def dashboard(template: dict) -> dict:
    """The dashboard body as JSON, tokens replaced by `<OutputName>`, `<Ref:X>`, `<X.Attr>`."""
    [body] = [
        r["Properties"]["DashboardBody"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Dashboard"
    ]
    sep, parts = body["Fn::Join"]
    return json.loads(sep.join(p if isinstance(p, str) else _placeholder(p) for p in parts))


def metrics(body: dict) -> list[tuple[str, str, dict]]:
    """(namespace, metric, dimensions) of every metric line of every graph."""
    found = []
    for widget in body["widgets"]:
        for line in widget.get("properties", {}).get("metrics", []):
            names = [x for x in line if isinstance(x, str)]
            namespace, metric, *dims = names
            found.append((namespace, metric, dict(zip(dims[::2], dims[1::2]))))
    return found


def graph(body: dict, title_part: str) -> dict:
    [widget] = [w for w in body["widgets"] if title_part in w.get("properties", {}).get("title", "")]
    return widget["properties"]


@pytest.fixture(scope="module")
def default() -> dict:
    s = synth(CONFIGS["default"])
    return s.template(s.deployment.monitoring)


def test_every_endpoint_metric_is_graphed_per_endpoint_and_variant():
    # Given a deployment with two models
    s = synth(CONFIGS["stable-diffusion"])
    body = dashboard(s.template(s.deployment.monitoring))
    found = metrics(body)
    assert len(s.deployment.endpoints.endpoints) == 2
    for name, endpoint in s.deployment.endpoints.endpoints.items():
        construct_id = endpoint.node.id
        # Then each gets all eight metrics, dimensioned by its own generated name and the variant
        mine = {
            (ns, m) for ns, m, dims in found
            if construct_id in dims.get("EndpointName", "") and "EndpointName" in dims.get("EndpointName", "")
            and dims.get("VariantName") == "AllTraffic"
        }
        assert mine == ENDPOINT_METRICS, name
        assert any(w["type"] == "text" and f"## {name}" in w["properties"]["markdown"] for w in body["widgets"])


def test_endpoint_metrics_carry_exactly_endpoint_and_variant_dimensions(default):
    for ns, _, dims in metrics(dashboard(default)):
        if ns in ("AWS/SageMaker", "/aws/sagemaker/Endpoints"):
            assert set(dims) == {"EndpointName", "VariantName"}


def test_latencies_are_percentiles_in_microseconds(default):
    latency = graph(dashboard(default), "falcon-7b-instruct: latency")
    stats = {(line[1], line[-1]["stat"]) for line in latency["metrics"]}
    assert stats == {("ModelLatency", "p50"), ("ModelLatency", "p90"), ("OverheadLatency", "p90")}
    assert latency["yAxis"]["left"]["label"] == "microseconds"


@pytest.mark.parametrize("config, gpus", [("default", 1), ("falcon-40b-g5-12xlarge", 4), ("falcon-40b-g5-48xlarge", 8)])
def test_gpu_axis_runs_to_100_percent_per_gpu(config, gpus):
    s = synth(CONFIGS[config])
    gpu = graph(dashboard(s.template(s.deployment.monitoring)), ": GPU (")
    assert gpu["yAxis"]["left"]["max"] == 100 * gpus


def test_lambda_metrics_cover_front_door_and_worker(default):
    found = metrics(dashboard(default))
    functions = {dims["FunctionName"] for ns, _, dims in found if ns == "AWS/Lambda"}
    assert len(functions) == 2
    assert any("FrontDoorHandlerFunction" in f for f in functions)
    assert any("FrontDoorJobsWorkerFunction" in f for f in functions)
    for fn in functions:
        assert {m for ns, m, d in found if ns == "AWS/Lambda" and d["FunctionName"] == fn} == {
            "Errors", "Duration", "Throttles"
        }


def test_api_metrics_use_rest_api_name_and_stage(default):
    found = [(m, dims) for ns, m, dims in metrics(dashboard(default)) if ns == "AWS/ApiGateway"]
    assert {m for m, _ in found} == {"Count", "4XXError", "5XXError", "Latency"}
    for _, dims in found:
        # REST APIs report ApiName (the API's name, not its id) and Stage.
        assert dims["ApiName"] == "fm-platform-api"
        assert set(dims) == {"ApiName", "Stage"} and "FrontDoorApiDeploymentStage" in dims["Stage"]


def test_rest_api_name_is_the_metric_dimension():
    s = synth(CONFIGS["default"])
    Template.from_json(s.template(s.deployment.api)).has_resource_properties(
        "AWS::ApiGateway::RestApi", {"Name": "fm-platform-api"}
    )


def test_queue_depth_age_and_dead_letters_are_graphed(default):
    found = [(m, dims["QueueName"]) for ns, m, dims in metrics(dashboard(default)) if ns == "AWS/SQS"]
    assert sorted(m for m, _ in found) == [
        "ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesVisible"
    ]
    assert {q for m, q in found if m == "ApproximateAgeOfOldestMessage"} == {
        q for m, q in found if "JobsQueue" in q
    }
    assert any("JobsDeadLetters" in q for _, q in found)


def test_alarm_status_widget_lists_endpoint_and_front_door_alarms(default):
    [status] = [w for w in dashboard(default)["widgets"] if w["type"] == "alarm"]
    # 3 per endpoint (Endpoints stack) + 5 front door alarms (this stack)
    assert len(status["properties"]["alarms"]) == 3 + 5


ALARMS = {
    # logical-id fragment: (namespace, metric, statistic, threshold, evaluation periods)
    "FrontDoorErrors": ("AWS/Lambda", "Errors", "Sum", 1, 1),
    "FrontDoorThrottles": ("AWS/Lambda", "Throttles", "Sum", 1, 1),
    "JobsDeadLetters": ("AWS/SQS", "NumberOfMessagesReceived", "Sum", 1, 1),
    "JobsOldestMessageAge": ("AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", OLDEST_JOB_AGE_SECONDS, 1),
}


def test_front_door_alarms_publish_to_the_endpoints_alarm_topic(default):
    alarms = {lid: r["Properties"] for lid, r in default["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert len(alarms) == len(ALARMS) + 1  # + Api5XX, a metric-math alarm (below)
    for fragment, (ns, metric, stat, threshold, periods) in ALARMS.items():
        [props] = [p for lid, p in alarms.items() if fragment in lid]
        assert (props["Namespace"], props["MetricName"], props["Statistic"]) == (ns, metric, stat), fragment
        assert (props["Threshold"], props["EvaluationPeriods"]) == (threshold, periods), fragment
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert props["TreatMissingData"] == "notBreaching"
        # The existing topic, by its unchanged logical id in the Endpoints stack
        [action] = props["AlarmActions"]
        out = action["Fn::GetStackOutput"]
        assert out["StackName"] == "fm-platform-endpoints" and "AlarmTopicD01E77F9" in out["OutputName"]


def test_dead_letter_alarm_watches_the_dlq_and_age_alarm_the_queue(default):
    alarms = {lid: r["Properties"] for lid, r in default["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    queue_of = {
        fragment: next(p for lid, p in alarms.items() if fragment in lid)["Dimensions"][0]["Value"]["Fn::GetStackOutput"]["OutputName"]
        for fragment in ("JobsDeadLetters", "JobsOldestMessageAge")
    }
    assert "FrontDoorJobsDeadLetters" in queue_of["JobsDeadLetters"]
    assert "FrontDoorJobsQueue" in queue_of["JobsOldestMessageAge"]


def test_alarm_topic_keeps_its_logical_id_and_email_subscription():
    # eu-west-1's example config subscribes an address to the alarm topic
    s = synth(CONFIGS["eu-west-1"])
    endpoints = Template.from_json(s.template(s.deployment.endpoints))
    assert list(endpoints.find_resources("AWS::SNS::Topic")) == ["AlarmTopicD01E77F9"]
    endpoints.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "email", "TopicArn": {"Ref": "AlarmTopicD01E77F9"},
         "Endpoint": s.deployment.config.monitoring.alarm_email},
    )


def test_dashboard_url_is_an_output(default):
    value = default["Outputs"]["DashboardUrl"]["Value"]["Fn::Join"][1]
    assert value[0].startswith("https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards")
    assert value[1] == {"Ref": next(lid for lid, r in default["Resources"].items()
                                    if r["Type"] == "AWS::CloudWatch::Dashboard")}


def test_without_the_api_only_endpoints_are_watched(tmp_path):
    # Given the default config with the API turned off
    data = yaml.safe_load((REPO / CONFIGS["default"]).read_text())
    data["api"] = {"enabled": False}
    path = tmp_path / "no-api.yaml"
    path.write_text(yaml.safe_dump(data))
    app = cdk.App(context={**cli_context(), "config": str(path)}, outdir=tempfile.mkdtemp())
    deployment = build_app(app, str(path))
    template = app.synth().get_stack_by_name(deployment.monitoring.stack_name).template
    # Then the dashboard has the endpoint graphs and their alarms, and no front door alarms exist
    body = dashboard(template)
    assert {ns for ns, _, _ in metrics(body)} == {"AWS/SageMaker", "/aws/sagemaker/Endpoints"}
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    [status] = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(status["properties"]["alarms"]) == 3


def test_api_5xx_alarm_does_not_count_model_asleep_answers(default):
    """A sleeping model answers 503 model_asleep by design (issue 9, fault 9): the alarm
    subtracts those answers, counted by a metric filter on the front door's log group."""
    [props] = [r["Properties"] for lid, r in default["Resources"].items()
               if r["Type"] == "AWS::CloudWatch::Alarm" and "Api5XX" in lid]
    assert (props["Threshold"], props["EvaluationPeriods"]) == (API_5XX, 2)
    by_id = {m["Id"]: m for m in props["Metrics"]}
    [expression] = [m for m in props["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "FILL(errors, 0) - FILL(asleep, 0)" and expression["ReturnData"] is True
    errors, asleep = by_id["errors"]["MetricStat"]["Metric"], by_id["asleep"]["MetricStat"]["Metric"]
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/ApiGateway", "5XXError")
    assert (asleep["Namespace"], asleep["MetricName"]) == ("FmPlatform/fm-platform-api", "ModelAsleepResponses")
    s = synth(CONFIGS["default"])
    api = s.template(s.deployment.api)
    # One filter on the front door's log group, one on the streaming function's (issue 12): the
    # streaming routes answer model_asleep before a stream's first token, logged alike.
    filters = [r["Properties"] for r in api["Resources"].values() if r["Type"] == "AWS::Logs::MetricFilter"]
    assert sorted(json.dumps(f["LogGroupName"]) for f in filters) == sorted(
        json.dumps({"Ref": lid}) for lid in api["Resources"] if lid.startswith(("FrontDoorHandlerLogs",
                                                                              "FrontDoorStreamingLogs")))
    for metric_filter in filters:
        assert metric_filter["FilterPattern"] == '{ ($.message = "request failed") && ($.error = "model_asleep") }'
        [transformation] = metric_filter["MetricTransformations"]
        assert transformation["MetricNamespace"] == asleep["Namespace"]
        assert transformation["MetricName"] == asleep["MetricName"]
