"""Every alarm watches a metric that exists, named the way its service publishes it.

CloudWatch accepts an alarm on any (namespace, metric name, dimensions) triple, and an
alarm on a metric nobody publishes sits in INSUFFICIENT_DATA (or, with
notBreaching, OK) forever -- it never fires. A metric is identified by the exact set of
its dimension names, and a dimension value must be what the service puts there (an
endpoint's *name*, not its ARN; a queue's name, not its URL). These tests check every
`AWS::CloudWatch::Alarm` (single metric, or every MetricStat of a metric-math alarm)
against a table of the documented metrics per AWS namespace below (each with its
documentation page), custom namespaces against what the deployment itself publishes
(an `AWS::Logs::MetricFilter`, or Powertools metrics emitted by our own Lambda code,
found by reading `lambdas/` for `add_metric`), and thresholds against the documented
unit (SageMaker latencies are microseconds; utilizations are percent per GPU/core).
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.deploy.model import (
    INSTANCE_FACTS,
    AlarmMetric,
    Deployment,
    alarm_metrics,
    assert_none,
    is_math,
    listify,
    variant_of,
)

REPO = Path(__file__).resolve().parents[2]
LAMBDAS = REPO / "lambdas"

ENDPOINT = frozenset({"EndpointName", "VariantName"})
INFERENCE_COMPONENT = frozenset({"InferenceComponentName"})

# namespace -> metric name -> the documented dimension-name sets
DOCUMENTED: dict[str, dict[str, set[frozenset[str]]]] = {}


def _document(namespace: str, metrics: list[str], *dimension_sets: frozenset[str]) -> None:
    for metric in metrics:
        DOCUMENTED.setdefault(namespace, {}).setdefault(metric, set()).update(dimension_sets)


# Amazon SageMaker AI Developer Guide, "Amazon SageMaker AI metrics in Amazon CloudWatch":
# endpoint invocation metrics, inference component metrics, endpoint instance metrics.
# https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html
_document(
    "AWS/SageMaker",
    ["Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "InvocationModelErrors",
     "InvocationsPerInstance", "ModelLatency", "OverheadLatency", "ModelSetupTime", "ConcurrentRequestsPerModel"],
    ENDPOINT,
)
_document(
    "AWS/SageMaker",
    ["Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "InvocationModelErrors", "InvocationsPerCopy",
     "ModelLatency", "OverheadLatency", "ConcurrentRequestsPerCopy", "NoCapacityInvocationFailures"],
    INFERENCE_COMPONENT,
)
_document(
    "/aws/sagemaker/Endpoints",
    ["CPUUtilization", "MemoryUtilization", "GPUUtilization", "GPUMemoryUtilization", "DiskUtilization"],
    ENDPOINT,
)
_document(
    "/aws/sagemaker/InferenceComponents",
    ["CPUUtilizationNormalized", "MemoryUtilizationNormalized", "GPUUtilizationNormalized",
     "GPUMemoryUtilizationNormalized"],
    INFERENCE_COMPONENT,
)
# AWS Lambda Developer Guide, "Types of metrics for Lambda functions",
# https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
_document(
    "AWS/Lambda",
    ["Invocations", "Errors", "Throttles", "Duration", "DeadLetterErrors", "DestinationDeliveryFailures",
     "IteratorAge", "ConcurrentExecutions", "ProvisionedConcurrentExecutions",
     "ProvisionedConcurrencyUtilization", "AsyncEventAge", "AsyncEventsReceived", "AsyncEventsDropped",
     "RecursiveInvocationsDropped"],
    frozenset({"FunctionName"}), frozenset({"FunctionName", "Resource"}), frozenset({"FunctionName", "ExecutedVersion"}),
)
_document("AWS/Lambda", ["ConcurrentExecutions", "UnreservedConcurrentExecutions"], frozenset())
# Amazon API Gateway Developer Guide, "Amazon API Gateway dimensions and metrics" (REST APIs),
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html
_document(
    "AWS/ApiGateway",
    ["4XXError", "5XXError", "CacheHitCount", "CacheMissCount", "Count", "IntegrationLatency", "Latency"],
    frozenset({"ApiName"}), frozenset({"ApiName", "Stage"}), frozenset({"ApiName", "Method", "Resource", "Stage"}),
)
# Amazon SQS Developer Guide, "Available CloudWatch metrics for Amazon SQS",
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
_document(
    "AWS/SQS",
    ["ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible",
     "ApproximateNumberOfMessagesVisible", "NumberOfEmptyReceives", "NumberOfMessagesDeleted",
     "NumberOfMessagesReceived", "NumberOfMessagesSent", "SentMessageSize"],
    frozenset({"QueueName"}),
)

# Powertools for AWS Lambda (Python), "Metrics": the service (POWERTOOLS_SERVICE_NAME) is
# added as the `service` dimension of every metric; capture_cold_start_metric=True adds
# ColdStart with `function_name` and `service`.
# https://docs.aws.amazon.com/powertools/python/latest/core/metrics/
_ADD_METRIC = re.compile(r"""add_metric\(\s*(?:name\s*=\s*)?["']([^"']+)["']""")


def _powertools_metrics(package: str) -> set[tuple[str, frozenset[str]]]:
    names, cold_start = set(), False
    for path in (LAMBDAS / package).rglob("*.py"):
        text = path.read_text()
        names |= set(_ADD_METRIC.findall(text))
        cold_start |= "capture_cold_start_metric=True" in text
    found = {(name, frozenset({"service"})) for name in names}
    if cold_start:
        found.add(("ColdStart", frozenset({"function_name", "service"})))
    return found


def published(dep: Deployment) -> dict[tuple[str, str], set[frozenset[str]]]:
    """(namespace, metric) -> dimension-name sets that the deployment itself publishes."""
    found: dict[tuple[str, str], set[frozenset[str]]] = {}
    for metric_filter in dep.resources("AWS::Logs::MetricFilter"):
        for transformation in listify(metric_filter.props.get("MetricTransformations")):
            key = (
                dep.render(metric_filter.stack, transformation.get("MetricNamespace")),
                dep.render(metric_filter.stack, transformation.get("MetricName")),
            )
            dims = frozenset(d["Key"] for d in listify(transformation.get("Dimensions")))
            found.setdefault(key, set()).add(dims)
    for function in dep.resources("AWS::Lambda::Function"):
        variables = (function.props.get("Environment") or {}).get("Variables") or {}
        namespace = dep.render(function.stack, variables.get("POWERTOOLS_METRICS_NAMESPACE"))
        handler = dep.render(function.stack, function.props.get("Handler")) or ""
        package = handler.split(".")[0]
        if not namespace or not package or not (LAMBDAS / package).is_dir():
            continue
        for name, dims in _powertools_metrics(package):
            found.setdefault((namespace, name), set()).add(dims)
    return found


def _is_aws_namespace(namespace: str) -> bool:
    return namespace.startswith("AWS/") or namespace.lower().startswith("/aws/")


def test_alarm_metrics_exist(deployment):
    """Every alarm's (namespace, metric name, dimension-name set) is one its publisher
    emits: for AWS namespaces, a combination documented by the service (table above, with
    each page); for a custom namespace, one an AWS::Logs::MetricFilter of this deployment
    or our own Lambda code (Powertools add_metric) publishes.

    Sources: SageMaker "Amazon SageMaker AI metrics in Amazon CloudWatch"
    (https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html); Lambda
    "Types of metrics for Lambda functions"
    (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html); API Gateway
    "Amazon API Gateway dimensions and metrics"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html);
    SQS "Available CloudWatch metrics for Amazon SQS"
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html);
    CloudWatch "Metrics concepts" (a metric is its namespace, name and dimensions,
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html).
    """
    dep = deployment
    custom = published(dep)
    problems = []
    for alarm in dep.resources("AWS::CloudWatch::Alarm"):
        metrics = alarm_metrics(dep, alarm)
        if not metrics and not is_math(alarm):
            problems.append(f"{dep.name}: {alarm} names no metric")
        for metric in metrics:
            if _is_aws_namespace(metric.namespace):
                if metric.namespace not in DOCUMENTED:
                    problems.append(
                        f"{dep.name}: {metric}: namespace not in this module's table; add its documented "
                        "metrics and dimensions with the documentation page"
                    )
                    continue
                allowed = DOCUMENTED[metric.namespace].get(metric.name)
            else:
                allowed = custom.get((metric.namespace, metric.name))
            if not allowed:
                problems.append(f"{dep.name}: {metric}: no such metric is published")
            elif metric.dim_names not in allowed:
                expected = " or ".join("[" + ", ".join(sorted(d)) + "]" for d in allowed)
                problems.append(f"{dep.name}: {metric}: published only with dimensions {expected}")
    assert_none(problems, "alarms must watch metrics that exist")


# dimension -> (resource type, the Fn::GetAtt attribute that yields the value, or None for
# Ref, literal name property). Ref of an endpoint, queue or inference component is its
# ARN/URL, not the name the service puts in the dimension.
_NAMED_BY = {
    "EndpointName": ("AWS::SageMaker::Endpoint", "EndpointName", "EndpointName"),
    "InferenceComponentName": ("AWS::SageMaker::InferenceComponent", "InferenceComponentName", "InferenceComponentName"),
    "FunctionName": ("AWS::Lambda::Function", None, "FunctionName"),
    "QueueName": ("AWS::SQS::Queue", "QueueName", "QueueName"),
    "Stage": ("AWS::ApiGateway::Stage", None, "StageName"),
}


def _dimension_problem(dep: Deployment, metric: AlarmMetric, name: str, value) -> str | None:
    stack = metric.alarm.stack
    literal = dep.render(stack, value)
    if name in _NAMED_BY:
        resource_type, attribute, name_property = _NAMED_BY[name]
        found = dep.target(stack, value)
        if found:
            res, attr = found
            if res.type == resource_type and attr == attribute:
                return None
            how = f"Fn::GetAtt {attr}" if attr else "Ref"
            return f"{name} is {how} of {res} ({res.type}), not the {resource_type}'s name"
        names = {dep.render(r.stack, r.props.get(name_property)) for r in dep.resources(resource_type)}
        return None if literal in names else f"{name}={literal!r} names no {resource_type} of this deployment"
    if name == "ApiName":
        names = {dep.render(r.stack, r.props.get("Name")) for r in dep.resources("AWS::ApiGateway::RestApi")}
        return None if literal in names else f"ApiName={literal!r} names no AWS::ApiGateway::RestApi of this deployment"
    if name == "VariantName" and metric.dim("EndpointName") is not None:
        return None if variant_of(dep, metric) else f"VariantName={literal!r} is not a variant of the endpoint's config"
    if name == "service":
        services = {
            dep.render(f.stack, ((f.props.get("Environment") or {}).get("Variables") or {}).get("POWERTOOLS_SERVICE_NAME"))
            for f in dep.resources("AWS::Lambda::Function")
        }
        return None if literal in services else f"service={literal!r} is no function's POWERTOOLS_SERVICE_NAME"
    return None


def test_alarm_dimension_values_name_resources_of_this_deployment(deployment):
    """Each dimension value is what the service publishes under that dimension for a
    resource of this deployment: EndpointName/QueueName/InferenceComponentName are the
    resource's *name* (Fn::GetAtt ...Name; Ref yields an ARN or URL), FunctionName/Stage
    the Ref of the function/stage, ApiName the REST API's Name, VariantName a variant of
    that endpoint's config.

    Sources: as in test_alarm_metrics_exist (dimension tables of each service's metrics
    page), and the CloudFormation return values of AWS::SageMaker::Endpoint
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-endpoint.html)
    and AWS::SQS::Queue
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queue.html).
    """
    dep = deployment
    problems = []
    for alarm in dep.resources("AWS::CloudWatch::Alarm"):
        for metric in alarm_metrics(dep, alarm):
            for name, value in metric.dims:
                problem = _dimension_problem(dep, metric, name, value)
                if problem:
                    problems.append(f"{dep.name}: {metric}: {problem}")
    assert_none(problems, "alarm dimension values must name resources of this deployment")


MICROSECONDS = {("AWS/SageMaker", "ModelLatency"), ("AWS/SageMaker", "OverheadLatency"), ("AWS/SageMaker", "ModelSetupTime")}


def _single_metric_alarms(dep: Deployment):
    for alarm in dep.resources("AWS::CloudWatch::Alarm"):
        if not is_math(alarm) and "Threshold" in alarm.props:
            for metric in alarm_metrics(dep, alarm):
                yield alarm, metric, float(alarm.props["Threshold"])


def test_sagemaker_latency_thresholds_are_microseconds(deployment):
    """ModelLatency, OverheadLatency and ModelSetupTime are published in microseconds, so a
    threshold meant as milliseconds or seconds is off by 1000x: every such threshold is at
    least 1000 (1 ms).

    Source: "Amazon SageMaker AI metrics in Amazon CloudWatch", endpoint invocation metrics
    (Units: Microseconds), https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html
    """
    dep = deployment
    problems = [
        f"{dep.name}: {metric}: threshold {threshold:g} is below 1 ms in microseconds"
        for alarm, metric, threshold in _single_metric_alarms(dep)
        if (metric.namespace, metric.name) in MICROSECONDS and threshold < 1000
    ]
    assert_none(problems, "SageMaker latency thresholds are in microseconds")


def test_utilization_thresholds_within_the_metric_range(deployment):
    """Endpoint utilization metrics are percent: CPUUtilization ranges 0-100 x vCPUs,
    GPUUtilization and GPUMemoryUtilization 0-100 x GPUs, MemoryUtilization and
    DiskUtilization (and the inference-component *Normalized metrics) 0-100. A threshold
    outside (0, maximum] can never be crossed, or is always crossed.

    Source: "Amazon SageMaker AI metrics in Amazon CloudWatch", SageMaker AI endpoint
    metrics, https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html ;
    vCPU/GPU counts: "Amazon EC2 instance type specifications - Accelerated computing",
    https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html
    """
    dep = deployment
    problems = []
    for alarm, metric, threshold in _single_metric_alarms(dep):
        if metric.namespace not in ("/aws/sagemaker/Endpoints", "/aws/sagemaker/InferenceComponents"):
            continue
        maximum = 100.0
        if metric.name in ("CPUUtilization", "GPUUtilization", "GPUMemoryUtilization"):
            behind = variant_of(dep, metric)
            instance_type = dep.render(behind[0].stack, behind[1].get("InstanceType")) if behind else None
            if instance_type not in INSTANCE_FACTS:
                problems.append(f"{dep.name}: {metric}: instance type {instance_type!r} unknown; add it to INSTANCE_FACTS")
                continue
            vcpus, gpus = INSTANCE_FACTS[instance_type]
            maximum = 100.0 * (vcpus if metric.name == "CPUUtilization" else gpus)
        if not 0 < threshold <= maximum:
            problems.append(f"{dep.name}: {metric}: threshold {threshold:g} outside (0, {maximum:g}]")
    assert_none(problems, "utilization thresholds must lie within the metric's range")
