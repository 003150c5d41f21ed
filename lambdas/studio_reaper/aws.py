"""boto3 glue for the reaper: which endpoints are notebook endpoints, their invocations,
the notice tag, and deleting an endpoint with its endpoint config and model(s).

A resource that is already gone is a normal state here (its owner or a previous run was
faster), not an error: SageMaker answers ValidationException "Could not find ..." for it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator

from botocore.exceptions import ClientError

from studio_reaper.policy import Endpoint, Settings, Usage, is_platform
from studio_reaper.tags import NOTIFIED_TAG, OWNER_TAG

# 5-minute sums: at most 2016 datapoints per variant for the longest window (168 h).
PERIOD_S = 300


def not_found(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    return error.get("Code") == "ValidationException" and "Could not find" in error.get("Message", "")


def notebook_endpoints(sagemaker: Any, settings: Settings) -> Iterator[Endpoint]:
    """Endpoints carrying the owner tag, platform endpoints left out before any other call
    (their tags are not even read)."""
    for page in sagemaker.get_paginator("list_endpoints").paginate():
        for summary in page.get("Endpoints", []):
            if is_platform(summary["EndpointName"], settings):
                continue
            tags = _tags(sagemaker, summary["EndpointArn"])
            if tags is None or not tags.get(OWNER_TAG):
                continue
            yield Endpoint(
                name=summary["EndpointName"], arn=summary["EndpointArn"], status=summary["EndpointStatus"],
                created=_utc(summary["CreationTime"]), modified=_utc(summary["LastModifiedTime"]), tags=tags,
            )


def _tags(sagemaker: Any, arn: str) -> dict[str, str] | None:
    tags: dict[str, str] = {}
    kwargs: dict[str, Any] = {"ResourceArn": arn}
    try:
        while True:
            response = sagemaker.list_tags(**kwargs)
            tags.update({t["Key"]: t["Value"] for t in response.get("Tags", [])})
            if not response.get("NextToken"):
                return tags
            kwargs["NextToken"] = response["NextToken"]
    except ClientError as exc:
        if not_found(exc):  # deleted since the listing
            return None
        raise


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


def variants(sagemaker: Any, endpoint_name: str) -> list[str]:
    response = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    return [v["VariantName"] for v in response.get("ProductionVariants", [])]


def usage(cloudwatch: Any, endpoint_name: str, variant_names: list[str], start: datetime, end: datetime) -> Usage:
    """AWS/SageMaker Invocations summed over the variants in [start, end), and the last
    5-minute period that had any. No datapoint at all means no invocation (SageMaker
    publishes none for a minute without calls)."""
    queries = [
        {
            "Id": f"v{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SageMaker",
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "EndpointName", "Value": endpoint_name},
                                   {"Name": "VariantName", "Value": variant}],
                },
                "Period": PERIOD_S,
                "Stat": "Sum",
            },
            "ReturnData": True,
        }
        for i, variant in enumerate(variant_names)
    ]
    total, last = 0.0, None
    kwargs: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
    while queries:
        response = cloudwatch.get_metric_data(**kwargs)
        for result in response.get("MetricDataResults", []):
            for stamp, value in zip(result.get("Timestamps", []), result.get("Values", [])):
                total += value
                if value > 0 and (last is None or _utc(stamp) > last):
                    last = _utc(stamp)
        if not response.get("NextToken"):
            break
        kwargs["NextToken"] = response["NextToken"]
    return Usage(total, last)


def mark_notified(sagemaker: Any, endpoint: Endpoint, now: datetime) -> None:
    """The one tag the reaper writes (its role may add no other key)."""
    sagemaker.add_tags(ResourceArn=endpoint.arn, Tags=[{"Key": NOTIFIED_TAG, "Value": now.isoformat()}])


def delete_endpoint_config_and_models(sagemaker: Any, endpoint_name: str) -> dict[str, Any]:
    """Delete the endpoint, then its endpoint config and the config's models (the SDK's
    `delete_endpoint(delete_endpoint_config=True)` + `delete_model()` order). What was
    already gone is reported, not raised."""
    deleted: dict[str, Any] = {"endpoint": False, "endpoint_config": None, "models": []}
    try:
        config_name = sagemaker.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
        sagemaker.delete_endpoint(EndpointName=endpoint_name)
        deleted["endpoint"] = True
    except ClientError as exc:
        if not_found(exc):
            return deleted
        raise
    try:
        config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    except ClientError as exc:
        if not_found(exc):
            return deleted
        raise
    sagemaker.delete_endpoint_config(EndpointConfigName=config_name)
    deleted["endpoint_config"] = config_name
    variants_ = config.get("ProductionVariants", []) + config.get("ShadowProductionVariants", [])
    for model in sorted({v["ModelName"] for v in variants_ if v.get("ModelName")}):
        try:
            sagemaker.delete_model(ModelName=model)
            deleted["models"].append(model)
        except ClientError as exc:
            if not not_found(exc):
                raise
    return deleted
