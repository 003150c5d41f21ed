"""SQS event sources are sized against the function they feed.

Lambda's SQS poller scales on its own (up to 1,000 concurrent batches) and does not
respect the function's reserved concurrency: deliveries beyond it are throttled, the
throttled messages reappear after the visibility timeout, each attempt counts as a
receive, and after `maxReceiveCount` receives a message goes to the dead-letter queue
although it was never processed. For every `AWS::Lambda::EventSourceMapping` whose
source is an `AWS::SQS::Queue` of the deployment (followed across stacks), the
mapping, the queue and the function (its Timeout, default 3 s; its
ReservedConcurrentExecutions) must fit together as Lambda's documentation prescribes.
"""

from __future__ import annotations

import json

from tests.deploy.model import Deployment, Res, assert_none, load

LAMBDA_DEFAULT_TIMEOUT = 3  # seconds (AWS::Lambda::Function Timeout)
SQS_DEFAULT_VISIBILITY = 30  # seconds (AWS::SQS::Queue VisibilityTimeout)


def sqs_mappings(dep: Deployment) -> list[tuple[Res, Res, Res]]:
    """(event source mapping, queue, function) for every SQS event source."""
    found = []
    for mapping in dep.resources("AWS::Lambda::EventSourceMapping"):
        queue = dep.ref(mapping.stack, mapping.props.get("EventSourceArn"))
        if queue is None or queue.type != "AWS::SQS::Queue":
            continue
        function = dep.ref(mapping.stack, mapping.props.get("FunctionName"))
        assert function is not None and function.type == "AWS::Lambda::Function", (
            f"{dep.name}: {mapping}: FunctionName is not a function of this deployment"
        )
        found.append((mapping, queue, function))
    return found


def _number(value, default: float) -> float:
    return default if value is None else float(value)


def _redrive(queue: Res) -> dict | None:
    policy = queue.props.get("RedrivePolicy")
    return json.loads(policy) if isinstance(policy, str) else policy


def _is_dead_letter_queue(dep: Deployment, queue: Res) -> bool:
    """Whether the queue is another queue's dead-letter target (the end of the line: its
    consumer's failures stay in it until the retention period ends)."""
    return any(
        dep.references(other.stack, (_redrive(other) or {}).get("deadLetterTargetArn"), queue)
        for other in dep.resources("AWS::SQS::Queue")
    )


def test_sqs_event_sources_set_maximum_concurrency(deployment):
    """Every SQS event source mapping sets ScalingConfig.MaximumConcurrency (2-1000), the only
    limit the SQS poller itself respects (reserved concurrency only throttles it).

    Source: AWS Lambda Developer Guide, "Configuring scaling behavior for SQS event source
    mappings", https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html ; range:
    "ScalingConfig", https://docs.aws.amazon.com/lambda/latest/api/API_ScalingConfig.html
    """
    dep = deployment
    problems = []
    for mapping, queue, function in sqs_mappings(dep):
        maximum = (mapping.props.get("ScalingConfig") or {}).get("MaximumConcurrency")
        if maximum is None or not 2 <= int(maximum) <= 1000:
            problems.append(f"{dep.name}: {mapping} ({queue} -> {function}): MaximumConcurrency is {maximum}, not 2-1000")
    assert_none(problems, "SQS event sources must bound their concurrency")


def test_queue_visibility_timeout_is_six_function_timeouts(deployment):
    """The source queue's VisibilityTimeout is at least six times the function's Timeout, so
    Lambda can retry a throttled batch before the message becomes visible again.

    Source: AWS Lambda Developer Guide, "Creating and configuring an Amazon SQS event source
    mapping" (set the source queue's visibility timeout to at least six times the function
    timeout), https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
    """
    dep = deployment
    problems = []
    for mapping, queue, function in sqs_mappings(dep):
        visibility = _number(queue.props.get("VisibilityTimeout"), SQS_DEFAULT_VISIBILITY)
        timeout = _number(function.props.get("Timeout"), LAMBDA_DEFAULT_TIMEOUT)
        if visibility < 6 * timeout:
            problems.append(
                f"{dep.name}: {queue} visibility {visibility:g} s < 6 x {function} timeout {timeout:g} s = {6 * timeout:g} s"
            )
    assert_none(problems, "queue visibility must cover six function timeouts")


def test_queue_redrive_allows_five_receives(deployment):
    """The source queue has a dead-letter queue (RedrivePolicy) with maxReceiveCount of at
    least 5, so a message survives throttled deliveries and transient failures before it
    is set aside. A source that is itself a dead-letter queue needs none.

    Source: AWS Lambda Developer Guide, "Creating and configuring an Amazon SQS event source
    mapping" (dead-letter queue; maxReceiveCount of at least 5),
    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
    """
    dep = deployment
    problems = []
    for mapping, queue, function in sqs_mappings(dep):
        redrive = _redrive(queue)
        if not redrive:
            if not _is_dead_letter_queue(dep, queue):
                problems.append(f"{dep.name}: {queue} (source of {function}) has no dead-letter queue")
        elif int(redrive.get("maxReceiveCount", 0)) < 5:
            problems.append(f"{dep.name}: {queue} maxReceiveCount {redrive.get('maxReceiveCount')} < 5")
    assert_none(problems, "SQS sources must allow at least five receives before the DLQ")


def test_maximum_concurrency_within_reserved_concurrency(deployment):
    """If the function has ReservedConcurrentExecutions, the mapping's MaximumConcurrency does
    not exceed it (otherwise the poller invokes more than the function may run, and the
    throttled messages count as receives).

    Source: AWS Lambda Developer Guide, "Configuring scaling behavior for SQS event source
    mappings" (maximum concurrency and reserved concurrency),
    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
    """
    dep = deployment
    problems = []
    for mapping, queue, function in sqs_mappings(dep):
        reserved = function.props.get("ReservedConcurrentExecutions")
        maximum = (mapping.props.get("ScalingConfig") or {}).get("MaximumConcurrency")
        if reserved is None:
            continue
        if maximum is None or int(maximum) > int(reserved):
            problems.append(
                f"{dep.name}: {mapping}: MaximumConcurrency {maximum} exceeds {function}'s reserved concurrency {reserved}"
            )
    assert_none(problems, "SQS event sources must not outrun the function's reserved concurrency")


def test_default_deployment_has_an_sqs_event_source():
    """Guard against a vacuous pass: the default deployment's async job path is an SQS
    event source, so the tests above have something to check."""
    assert sqs_mappings(load("default")), "no SQS event source found in the default deployment"
