"""A stand-in for the SageMaker control plane (and SSM, CloudWatch) that behaves like AWS.

Only what the idle-cost code calls: DescribeEndpoint, CreateEndpoint,
DeleteEndpoint, GetParameter, GetMetricData. Errors are real botocore
`ClientError`s with the codes and messages the services send:

- DescribeEndpoint / DeleteEndpoint of a missing endpoint: ValidationException
  'Could not find endpoint "<arn>".'
- CreateEndpoint of an existing name (any status, Deleting included):
  ValidationException 'Cannot create already existing endpoint "<arn>".'
- CreateEndpoint from a missing config: ValidationException
  'Could not find endpoint configuration "<arn>".'
- DeleteEndpoint while Deleting: the endpoint still exists, so deleting again is
  refused like any change in a transitional state (message approximated).

Endpoints move Creating -> InService and Deleting -> gone only when the test says
so (`finish`), so every intermediate state can be exercised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
REGION = "eu-central-1"


def client_error(code: str, message: str, operation: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


def _arn(kind: str, name: str) -> str:
    # SageMaker lower-cases names in ARNs.
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name.lower()}"


@dataclass
class FakeEndpoint:
    name: str
    config_name: str
    status: str
    created: datetime
    modified: datetime


@dataclass
class FakeSageMaker:
    configs: set[str] = field(default_factory=set)
    endpoints: dict[str, FakeEndpoint] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # operation -> ClientError raised on the next call of that operation
    faults: dict[str, ClientError] = field(default_factory=dict)

    # -- test controls --------------------------------------------------------

    def add_endpoint(self, name: str, config_name: str, status: str = "InService",
                     modified: datetime | None = None) -> None:
        self.configs.add(config_name)
        when = modified or self.now
        self.endpoints[name] = FakeEndpoint(name, config_name, status, when, when)

    def finish(self, name: str) -> None:
        """Complete the endpoint's transition: Creating/Updating -> InService, Deleting -> gone."""
        endpoint = self.endpoints[name]
        if endpoint.status == "Deleting":
            del self.endpoints[name]
        else:
            endpoint.status, endpoint.modified = "InService", self.now

    def operations(self) -> list[str]:
        return [op for op, _ in self.calls]

    def _call(self, operation: str, **params: Any) -> None:
        self.calls.append((operation, params))
        fault = self.faults.pop(operation, None)
        if fault is not None:
            raise fault

    def _missing(self, name: str, operation: str) -> ClientError:
        return client_error("ValidationException", f'Could not find endpoint "{_arn("endpoint", name)}".', operation)

    # -- the API ----------------------------------------------------------------

    def describe_endpoint(self, *, EndpointName: str) -> dict[str, Any]:
        self._call("DescribeEndpoint", EndpointName=EndpointName)
        endpoint = self.endpoints.get(EndpointName)
        if endpoint is None:
            raise self._missing(EndpointName, "DescribeEndpoint")
        return {
            "EndpointName": endpoint.name,
            "EndpointArn": _arn("endpoint", endpoint.name),
            "EndpointConfigName": endpoint.config_name,
            "EndpointStatus": endpoint.status,
            "CreationTime": endpoint.created,
            "LastModifiedTime": endpoint.modified,
        }

    def create_endpoint(self, *, EndpointName: str, EndpointConfigName: str, **_: Any) -> dict[str, Any]:
        self._call("CreateEndpoint", EndpointName=EndpointName, EndpointConfigName=EndpointConfigName)
        if EndpointName in self.endpoints:
            raise client_error(
                "ValidationException",
                f'Cannot create already existing endpoint "{_arn("endpoint", EndpointName)}".',
                "CreateEndpoint",
            )
        if EndpointConfigName not in self.configs:
            raise client_error(
                "ValidationException",
                f'Could not find endpoint configuration "{_arn("endpoint-config", EndpointConfigName)}".',
                "CreateEndpoint",
            )
        self.endpoints[EndpointName] = FakeEndpoint(EndpointName, EndpointConfigName, "Creating", self.now, self.now)
        return {"EndpointArn": _arn("endpoint", EndpointName)}

    def delete_endpoint(self, *, EndpointName: str) -> dict[str, Any]:
        self._call("DeleteEndpoint", EndpointName=EndpointName)
        endpoint = self.endpoints.get(EndpointName)
        if endpoint is None:
            raise self._missing(EndpointName, "DeleteEndpoint")
        if endpoint.status == "Deleting":
            raise client_error(
                "ValidationException",
                f'Cannot update in-progress endpoint "{_arn("endpoint", EndpointName)}".',
                "DeleteEndpoint",
            )
        endpoint.status, endpoint.modified = "Deleting", self.now
        return {}


@dataclass
class FakeSSM:
    parameters: dict[str, str] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    def get_parameter(self, *, Name: str) -> dict[str, Any]:
        self.reads.append(Name)
        if Name not in self.parameters:
            raise client_error("ParameterNotFound", "", "GetParameter")
        return {"Parameter": {"Name": Name, "Type": "String", "Value": self.parameters[Name]}}


@dataclass
class FakeCloudWatch:
    """GetMetricData over per-endpoint datapoints [(timestamp, sum)]; pages of `page_size`."""

    datapoints: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)
    page_size: int = 100
    requests: list[dict[str, Any]] = field(default_factory=list)

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        [query] = kwargs["MetricDataQueries"]
        dims = {d["Name"]: d["Value"] for d in query["MetricStat"]["Metric"]["Dimensions"]}
        points = [v for t, v in self.datapoints.get(dims["EndpointName"], [])
                  if kwargs["StartTime"] <= t < kwargs["EndTime"]]
        start = int(kwargs.get("NextToken", 0))
        page = points[start:start + self.page_size]
        response: dict[str, Any] = {"MetricDataResults": [{"Id": query["Id"], "Values": page}]}
        if start + self.page_size < len(points):
            response["NextToken"] = str(start + self.page_size)
        return response
