"""No alarm sits in ALARM on a healthy, idle deployment by construction.

An alarm that is red while nothing is wrong trains on-call to ignore the alarm topic.
Three ways the templates can build one in: (1) an alarm on GPU memory of a
text-generation-inference (TGI) container, which pre-allocates its KV cache to fill
GPU memory at start-up, so GPUMemoryUtilization sits near the top on every healthy
endpoint -- unless the model pins TGI's `CUDA_MEMORY_FRACTION` and the threshold lies
above it; (2) an alarm that treats missing data as breaching (or leaves the default),
on metrics that are simply not published while nothing is invoked (invocation, Lambda,
API Gateway, SQS and log-derived metrics) or while an endpoint has no instances; (3) an
alarm on API Gateway 5XXError when the API answers 503 by design (a call to a sleeping
model returns 503 `model_asleep` while it wakes).
"""

from __future__ import annotations

from tests.deploy.model import (
    INSTANCE_FACTS,
    alarm_metrics,
    assert_none,
    containers,
    is_math,
    listify,
    variant_of,
)


def _repository(image: str) -> str:
    """The repository part of an image URI: <registry>/<repository>[:tag|@digest]."""
    path = image.split("/", 1)[-1]
    return path.split("@")[0].split(":")[0]


def test_no_gpu_memory_alarm_on_tgi_without_a_pinned_memory_fraction(deployment):
    """No alarm on GPUMemoryUtilization of an endpoint whose container is TGI (image
    repository containing `tgi`) unless that container's environment pins
    CUDA_MEMORY_FRACTION and the threshold lies above the memory TGI then takes
    (fraction x 100 x GPUs, the metric being summed over the instance's GPUs).

    Sources: huggingface/text-generation-inference issue #1863 "Mistral7b takes 4 times its
    size in VRAM on A100" (warm-up allocates the KV cache from the free memory),
    https://github.com/huggingface/text-generation-inference/issues/1863 , and issue #832,
    https://github.com/huggingface/text-generation-inference/issues/832 ; metric range:
    "Amazon SageMaker AI metrics in Amazon CloudWatch" (GPUMemoryUtilization is 0-100 x GPUs),
    https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html
    """
    dep = deployment
    problems = []
    for alarm in dep.resources("AWS::CloudWatch::Alarm"):
        for metric in alarm_metrics(dep, alarm):
            if metric.name != "GPUMemoryUtilization":
                continue
            behind = variant_of(dep, metric)
            if behind is None:
                problems.append(f"{dep.name}: {metric}: cannot find the endpoint's model to check its container")
                continue
            config, variant, model = behind
            for container in containers(model):
                image = dep.render(model.stack, container.get("Image")) or ""
                if "tgi" not in _repository(image).lower():
                    continue
                env = container.get("Environment") or {}
                fraction = dep.render(model.stack, env.get("CUDA_MEMORY_FRACTION")) if "CUDA_MEMORY_FRACTION" in env else None
                if fraction is None:
                    problems.append(
                        f"{dep.name}: {metric}: {model} runs TGI ({image.split('/')[-1]}), which fills GPU memory "
                        "with its KV cache, and does not pin CUDA_MEMORY_FRACTION"
                    )
                    continue
                if is_math(alarm) or not str(alarm.props.get("ComparisonOperator", "")).startswith("GreaterThan"):
                    continue
                instance_type = dep.render(config.stack, variant.get("InstanceType"))
                gpus = INSTANCE_FACTS.get(instance_type, (0, 1))[1]
                steady = float(fraction) * 100 * gpus
                if float(alarm.props["Threshold"]) <= steady:
                    problems.append(
                        f"{dep.name}: {metric}: threshold {alarm.props['Threshold']} is not above the "
                        f"{steady:g} TGI takes with CUDA_MEMORY_FRACTION={fraction} on {gpus} GPU(s)"
                    )
    assert_none(problems, "GPU-memory alarms must not fire on healthy TGI endpoints")


QUIET_WHEN_MISSING = {"notBreaching", "ignore"}


def test_alarms_stay_quiet_when_their_metric_is_absent(deployment):
    """Every alarm treats missing data as notBreaching or ignore. All metrics our alarms
    can watch are published only while something happens: invocation metrics per
    InvokeEndpoint, Lambda metrics per invocation, API Gateway metrics per request, SQS
    metrics only for active queues, log-derived and embedded metrics only when something
    logs, endpoint instance metrics only while the endpoint has instances (not while it
    sleeps or is being replaced). A metric-math alarm whose expressions fill gaps (FILL)
    is exempt. With `missing` (the default) an idle deployment shows alarms in
    INSUFFICIENT_DATA; with `breaching` in ALARM.

    Source: Amazon CloudWatch User Guide, "Configuring how CloudWatch alarms treat missing
    data", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html ;
    SQS "Available CloudWatch metrics for Amazon SQS" (inactive queues),
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
    """
    dep = deployment
    problems = []
    for alarm in dep.resources("AWS::CloudWatch::Alarm"):
        expressions = [q.get("Expression", "") for q in listify(alarm.props.get("Metrics")) if q.get("Expression")]
        if expressions and all("FILL(" in e.upper() for e in expressions):
            continue
        treat = alarm.props.get("TreatMissingData", "missing")
        if treat not in QUIET_WHEN_MISSING:
            metrics = ", ".join(f"{m.namespace}/{m.name}" for m in alarm_metrics(dep, alarm)) or "metric math"
            problems.append(f"{dep.name}: {alarm} ({metrics}) treats missing data as {treat!r}")
    assert_none(problems, "alarms must not go red on an idle deployment")


def test_api_5xx_alarms_exclude_503s_of_sleeping_models(deployment):
    """Where a config lets endpoints sleep, the front door answers calls to a sleeping model
    with 503 `model_asleep` (and a Retry-After) by design, and API Gateway counts every 5xx
    response in 5XXError. No alarm may then watch the raw 5XXError alone: it must be a
    metric-math alarm that takes the expected 503s out (e.g. with a log metric filter on
    the front door's answers), or watch a fault metric instead.

    Source: Amazon API Gateway Developer Guide, "Amazon API Gateway dimensions and metrics"
    (5XXError: the number of server-side errors),
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html ;
    the 503 `model_asleep` contract: docs/idle-cost.md.
    """
    dep = deployment
    if not any(endpoint.sleep for endpoint in dep.config.endpoints):
        return
    problems = []
    for alarm in dep.resources("AWS::CloudWatch::Alarm"):
        metrics = alarm_metrics(dep, alarm)
        raw_5xx = [m for m in metrics if (m.namespace, m.name) == ("AWS/ApiGateway", "5XXError")]
        if raw_5xx and (not is_math(alarm) or len(metrics) < 2):
            problems.append(f"{dep.name}: {alarm} alarms on API Gateway 5XXError, which counts expected 503 model_asleep")
    assert_none(problems, "API 5XX alarms must not count the 503s of sleeping models")
