"""boto3 glue for the idle sleeper: DescribeEndpoint, GetMetricData, DeleteEndpoint.

A missing endpoint is a normal state here (already asleep), not an error;
``inference.control`` knows how SageMaker says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from idle_sleeper.policy import EndpointState, Watch
from inference.control import describe_endpoint, endpoint_not_found

# 5-minute sums: at most 2016 datapoints for the longest window (168 h), one page.
PERIOD_S = 300


def describe(sagemaker: Any, endpoint_name: str) -> EndpointState | None:
    response = describe_endpoint(sagemaker, endpoint_name)
    if response is None:
        return None
    return EndpointState(response["EndpointStatus"], response["LastModifiedTime"])


def invocations(cloudwatch: Any, watch: Watch, start: datetime, end: datetime) -> float:
    """Sum of AWS/SageMaker Invocations for the endpoint's variant over [start, end)."""
    query = {
        "Id": "invocations",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/SageMaker",
                "MetricName": "Invocations",
                "Dimensions": [
                    {"Name": "EndpointName", "Value": watch.endpoint_name},
                    {"Name": "VariantName", "Value": watch.variant_name},
                ],
            },
            "Period": PERIOD_S,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }
    total = 0.0
    kwargs: dict[str, Any] = {"MetricDataQueries": [query], "StartTime": start, "EndTime": end}
    while True:
        response = cloudwatch.get_metric_data(**kwargs)
        for result in response.get("MetricDataResults", []):
            total += sum(result.get("Values", []))
        token = response.get("NextToken")
        if not token:
            return total
        kwargs["NextToken"] = token


def delete(sagemaker: Any, endpoint_name: str) -> bool:
    """Delete the endpoint; False if it was already gone (a schedule or a person was faster)."""
    from botocore.exceptions import ClientError

    try:
        sagemaker.delete_endpoint(EndpointName=endpoint_name)
    except ClientError as exc:
        if endpoint_not_found(exc):
            return False
        raise
    return True
