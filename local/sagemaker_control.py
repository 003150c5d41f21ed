"""A local SageMaker control plane for models and endpoints, wired to the runtime emulator.

Speaks SageMaker's JSON protocol (``X-Amz-Target: SageMaker.<Operation>``, awsJson1_1) for a
real boto3 ``sagemaker`` client, or the SageMaker Python SDK, pointed at it with
``endpoint_url`` or ``AWS_ENDPOINT_URL_SAGEMAKER``: CreateModel, CreateEndpointConfig,
CreateEndpoint, their Describe and Delete, ListEndpoints, AddTags and ListTags. It exists
because moto's SageMaker is not faithful enough for the SDK's deploy (issue 21): moto checks
instance types against a years-old list (no ml.g5), creates endpoints already InService and
lets a second create overwrite the first.

As SageMaker: inputs are checked against botocore's service model (length, pattern and enum,
which botocore leaves to the server) with the service's "1 validation error detected" text;
a create of a name that exists, or a reference to a model or config that does not, is a
ValidationException with SageMaker's wording and the resource's (lower-cased) ARN; an
endpoint is ``Creating`` for its first ``creating_polls`` DescribeEndpoint calls, then
``InService``, and from then on the emulator answers InvokeEndpoint for it, with the model
family and token limits of its model (the SDK's JumpStart model-id tag, the container's
MAX_INPUT_LENGTH / MAX_TOTAL_TOKENS). DeleteEndpoint takes it off the emulator. Operations
it does not implement answer UnknownOperationException, so a test meets every new call.

    plane = ControlPlane(emulator).start()   # plane.url; plane.calls: [(operation, request)]
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from local.emulator import ACCOUNT, REGION, Emulator, EndpointConfig

JUMPSTART_MODEL_TAG = "sagemaker-sdk:jumpstart-model-id"
_KINDS = {"model": "model", "config": "endpoint-config", "endpoint": "endpoint"}
_WORDS = {"model": "model", "config": "endpoint configuration", "endpoint": "endpoint"}


class ServiceError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _catalog_family(model_id: str) -> str | None:
    from stacks.config import catalog  # deferred: only endpoints need it

    facts = catalog.models().models.get(model_id)
    return facts.family if facts else None


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def validation_errors(shape: Any, value: Any, path: str = "") -> list[str]:
    """SageMaker's server-side checks of `value` against botocore's `shape`: string length,
    pattern and enum, list length, recursively (required members and types botocore checks
    before sending)."""
    errors: list[str] = []
    meta = shape.metadata
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                errors += validation_errors(member, value[name], f"{path}.{_camel(name)}" if path else _camel(name))
    elif shape.type_name == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Value '{value}' at '{path}' failed to satisfy constraint: "
                          f"Member must have length less than or equal to {meta['max']}")
        for i, item in enumerate(value, start=1):
            errors += validation_errors(shape.member, item, f"{path}.{i}.member")
    elif shape.type_name == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Value '{value}' at '{path}' failed to satisfy constraint: "
                          f"Member must have length less than or equal to {meta['max']}")
        if shape.enum and value not in shape.enum:
            errors.append(f"Value '{value}' at '{path}' failed to satisfy constraint: "
                          f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        elif "pattern" in meta and not _matches(meta["pattern"], value):
            errors.append(f"Value '{value}' at '{path}' failed to satisfy constraint: "
                          f"Member must satisfy regular expression pattern: {meta['pattern']}")
    return errors


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value, re.DOTALL) is not None
    except re.error:  # a Java-only construct: SageMaker would check it, we cannot
        return True


class ControlPlane:
    """The control plane's state (models, endpoint configs, endpoints, the call log) behind
    an HTTP server; ``emulator`` answers InvokeEndpoint for endpoints once InService."""

    def __init__(self, emulator: Emulator | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 region: str = REGION, creating_polls: int = 1,
                 family_of: Callable[[str], str | None] = _catalog_family) -> None:
        import botocore.session

        self.emulator, self.region, self.creating_polls, self.family_of = emulator, region, creating_polls, family_of
        self._model = botocore.session.get_session().get_service_model("sagemaker", api_version=None)
        self._lock = threading.Lock()
        self.resources: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in _KINDS}
        self._tags: dict[str, list[dict[str, str]]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        plane = self

        class Handler(_Handler):
            control_plane = plane

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ControlPlane:
        threading.Thread(target=self._server.serve_forever, name="sagemaker-control", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{ACCOUNT}:{_KINDS[kind]}/{name.lower()}"

    def tags(self, kind: str, name: str) -> dict[str, str]:
        return {t["Key"]: t.get("Value", "") for t in self._tags.get(self.arn(kind, name), [])}

    # -- dispatch
    def handle(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append((operation, request))
            method = getattr(self, f"_op_{operation}", None)
            if method is None or operation not in self._model.operation_names:
                raise ServiceError("UnknownOperationException", f"Operation {operation} is not implemented here")
            errors = validation_errors(self._model.operation_model(operation).input_shape, request)
            if errors:
                raise ServiceError("ValidationException", f"{len(errors)} validation error"
                                   f"{'s' if len(errors) > 1 else ''} detected: {'; '.join(errors)}")
            return method(request)

    def _get(self, kind: str, name: str) -> dict[str, Any]:
        found = self.resources[kind].get(name)
        if found is None:
            raise ServiceError("ValidationException", f'Could not find {_WORDS[kind]} "{self.arn(kind, name)}".')
        return found

    def _create(self, kind: str, name: str, record: dict[str, Any], tags: list[dict[str, str]] | None) -> str:
        if name in self.resources[kind]:
            raise ServiceError("ValidationException",
                               f'Cannot create already existing {_WORDS[kind]} "{self.arn(kind, name)}".')
        now = time.time()
        self.resources[kind][name] = {**record, "CreationTime": now, "LastModifiedTime": now}
        self._tags[self.arn(kind, name)] = list(tags or [])
        return self.arn(kind, name)

    def _delete(self, kind: str, name: str) -> dict[str, Any]:
        self._get(kind, name)
        self._tags.pop(self.arn(kind, name), None)
        return self.resources[kind].pop(name)

    # -- models and endpoint configs
    def _op_CreateModel(self, r: dict[str, Any]) -> dict[str, Any]:
        record = {k: r[k] for k in ("PrimaryContainer", "Containers", "ExecutionRoleArn", "VpcConfig",
                                    "EnableNetworkIsolation") if k in r}
        return {"ModelArn": self._create("model", r["ModelName"], record, r.get("Tags"))}

    def _op_DescribeModel(self, r: dict[str, Any]) -> dict[str, Any]:
        return {"ModelName": r["ModelName"], "ModelArn": self.arn("model", r["ModelName"]),
                **self._get("model", r["ModelName"])}

    def _op_DeleteModel(self, r: dict[str, Any]) -> dict[str, Any]:
        self._delete("model", r["ModelName"])
        return {}

    def _op_CreateEndpointConfig(self, r: dict[str, Any]) -> dict[str, Any]:
        for variant in r["ProductionVariants"]:
            if "ModelName" in variant:
                self._get("model", variant["ModelName"])
        record = {k: r[k] for k in ("ProductionVariants", "KmsKeyId", "DataCaptureConfig") if k in r}
        return {"EndpointConfigArn": self._create("config", r["EndpointConfigName"], record, r.get("Tags"))}

    def _op_DescribeEndpointConfig(self, r: dict[str, Any]) -> dict[str, Any]:
        name = r["EndpointConfigName"]
        return {"EndpointConfigName": name, "EndpointConfigArn": self.arn("config", name), **self._get("config", name)}

    def _op_DeleteEndpointConfig(self, r: dict[str, Any]) -> dict[str, Any]:
        self._delete("config", r["EndpointConfigName"])
        return {}

    # -- endpoints
    def _op_CreateEndpoint(self, r: dict[str, Any]) -> dict[str, Any]:
        self._get("config", r["EndpointConfigName"])
        record = {"EndpointConfigName": r["EndpointConfigName"], "EndpointStatus": "Creating", "_polls": 0}
        return {"EndpointArn": self._create("endpoint", r["EndpointName"], record, r.get("Tags"))}

    def _op_DescribeEndpoint(self, r: dict[str, Any]) -> dict[str, Any]:
        name = r["EndpointName"]
        endpoint = self._get("endpoint", name)
        endpoint["_polls"] += 1
        if endpoint["EndpointStatus"] == "Creating" and endpoint["_polls"] > self.creating_polls:
            self._go_in_service(name, endpoint)
        variants = self.resources["config"].get(endpoint["EndpointConfigName"], {}).get("ProductionVariants", [])
        return {
            "EndpointName": name, "EndpointArn": self.arn("endpoint", name),
            **{k: v for k, v in endpoint.items() if not k.startswith("_")},
            "ProductionVariants": [
                {"VariantName": v["VariantName"], "CurrentWeight": v.get("InitialVariantWeight", 1.0),
                 "CurrentInstanceCount": v.get("InitialInstanceCount", 1),
                 "DesiredInstanceCount": v.get("InitialInstanceCount", 1)}
                for v in variants if endpoint["EndpointStatus"] == "InService"
            ],
        }

    def _go_in_service(self, name: str, endpoint: dict[str, Any]) -> None:
        endpoint["EndpointStatus"], endpoint["LastModifiedTime"] = "InService", time.time()
        if self.emulator is None:
            return
        config = self.resources["config"][endpoint["EndpointConfigName"]]
        variant = config["ProductionVariants"][0]
        model = self.resources["model"].get(variant.get("ModelName", ""), {})
        env = (model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]).get("Environment", {})
        model_id = self.tags("model", variant.get("ModelName", "")).get(JUMPSTART_MODEL_TAG, "")
        family = self.family_of(model_id) or "falcon"
        limits = {key: int(env[var]) for key, var in (("max_input_length", "MAX_INPUT_LENGTH"),
                                                      ("max_total_tokens", "MAX_TOTAL_TOKENS")) if var in env}
        self.emulator.add_endpoint(EndpointConfig(name, family, variant=variant["VariantName"], **limits))

    def _op_DeleteEndpoint(self, r: dict[str, Any]) -> dict[str, Any]:
        self._delete("endpoint", r["EndpointName"])
        if self.emulator is not None:
            self.emulator.remove_endpoint(r["EndpointName"])
        return {}

    def _op_ListEndpoints(self, r: dict[str, Any]) -> dict[str, Any]:
        found = [
            {"EndpointName": name, "EndpointArn": self.arn("endpoint", name), "CreationTime": e["CreationTime"],
             "LastModifiedTime": e["LastModifiedTime"], "EndpointStatus": e["EndpointStatus"]}
            for name, e in self.resources["endpoint"].items()
            if r.get("NameContains", "") in name and r.get("StatusEquals", e["EndpointStatus"]) == e["EndpointStatus"]
        ]
        return {"Endpoints": sorted(found, key=lambda e: e["CreationTime"], reverse=True)}

    # -- tags
    def _tagged(self, arn: str) -> list[dict[str, str]]:
        if arn not in self._tags:
            raise ServiceError("ValidationException", f'Could not find resource "{arn}".')
        return self._tags[arn]

    def _op_AddTags(self, r: dict[str, Any]) -> dict[str, Any]:
        tags = self._tagged(r["ResourceArn"])
        keys = {t["Key"] for t in r["Tags"]}
        tags[:] = [t for t in tags if t["Key"] not in keys] + r["Tags"]
        return {"Tags": r["Tags"]}

    def _op_ListTags(self, r: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": list(self._tagged(r["ResourceArn"]))}


class _Handler(BaseHTTPRequestHandler):
    control_plane: ControlPlane
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        try:
            if not target.startswith("SageMaker."):
                raise ServiceError("UnknownOperationException", f"Unknown target {target!r}")
            status, body = 200, self.control_plane.handle(target.split(".", 1)[1], json.loads(raw or b"{}"))
        except ServiceError as err:
            status, body = err.status, {"__type": err.code, "message": err.message}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)
