"""The token-streaming path in the Api stack (issue 12), for every shipped config: the two
`/stream` methods integrate the streaming function with response streaming, the function
runs behind the Lambda Web Adapter in response-stream mode, and its role may stream from
exactly the models that can stream.

Sources:
- API Gateway Developer Guide, "Stream the integration response for your proxy integrations
  in API Gateway" (`ResponseTransferMode: STREAM`, proxy integrations only, up to 15 minutes,
  5-minute idle timeout on Regional endpoints) and "Set up a Lambda proxy integration with
  payload response streaming in API Gateway" (URI `.../2021-11-15/functions/<arn>/response-
  streaming-invocations`, API Gateway calls InvokeWithResponseStream).
- aws/aws-lambda-web-adapter, docs/guide "Zip Packages" (layer
  `arn:aws:lambda:<region>:753240598075:layer:LambdaAdapterLayerArm64:<version>`,
  `AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap`, the handler is the startup script) and
  "Environment Variables" (`AWS_LWA_INVOKE_MODE=response_stream`, `AWS_LWA_PORT`,
  `AWS_LWA_READINESS_CHECK_PATH`).
- SageMaker API Reference, "InvokeEndpointWithResponseStream" ("your IAM permissions must
  allow the sagemaker:InvokeEndpoint action"), and the Service Authorization Reference's
  `sagemaker:InvokeEndpointWithResponseStream` (resource types endpoint, inference-component).
"""

from __future__ import annotations

import json

import pytest

from inference.params import TGI_FAMILIES
from stacks.constructs.frontdoor import STREAM_TIMEOUT, WEB_ADAPTER_LAYER_VERSION
from tests.synth import CONFIGS, synth

STREAM_PATHS = {"v1/generate/stream", "v1/templates/{name}/stream"}
# OpenAI's text routes answer JSON or, with `stream`, events: the streaming function serves both,
# and validates their bodies itself (OpenAI's error shape; docs/openai-compatibility.md).
OPENAI_STREAM_PATHS = {"v1/chat/completions", "v1/completions"}
INVOKE = {"sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"}


def _api(config: str) -> dict:
    s = synth(CONFIGS[config])
    return s.template(s.deployment.api)["Resources"]


def _path(resources: dict, ref: dict) -> str:
    if "Fn::GetAtt" in ref:
        return ""
    props = resources[ref["Ref"]]["Properties"]
    parent = _path(resources, props["ParentId"])
    return f"{parent}/{props['PathPart']}" if parent else props["PathPart"]


def _functions(resources: dict) -> dict[str, dict]:
    return {lid: r["Properties"] for lid, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}


def _streaming(resources: dict) -> tuple[str, dict]:
    [(lid, props)] = [(lid, p) for lid, p in _functions(resources).items() if p["Handler"] == "frontdoor/stream.sh"]
    return lid, props


def _statements(resources: dict, function: dict) -> list[dict]:
    """Every statement of the function role's managed policies."""
    role = function["Role"]["Fn::GetAtt"][0]
    found = []
    for ref in resources[role]["Properties"].get("ManagedPolicyArns", []):
        if isinstance(ref, dict) and ref.get("Ref") in resources:
            found += resources[ref["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
    return found


def _actions(statement: dict) -> set[str]:
    action = statement["Action"]
    return set(action if isinstance(action, list) else [action])


def _resources(statement: dict) -> list:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_the_stream_methods_integrate_the_streaming_function_with_response_streaming(config):
    resources = _api(config)
    streaming_lid, _ = _streaming(resources)
    methods = {(_path(resources, r["Properties"]["ResourceId"]), r["Properties"]["HttpMethod"]): r["Properties"]
               for r in resources.values() if r["Type"] == "AWS::ApiGateway::Method"}
    auth = {m["AuthorizationType"] for m in methods.values()}
    assert len(auth) == 1  # the same authorization (IAM, or Cognito) on the streaming methods as on every other
    for (path, verb), method in methods.items():
        integration = method["Integration"]
        uri = json.dumps(integration["Uri"])
        if path in STREAM_PATHS | OPENAI_STREAM_PATHS:
            assert verb == "POST" and integration["Type"] == "AWS_PROXY"
            assert integration["ResponseTransferMode"] == "STREAM"
            assert "/2021-11-15/functions/" in uri and "/response-streaming-invocations" in uri
            assert streaming_lid in uri
            assert 29_000 < integration["TimeoutInMillis"] <= 15 * 60 * 1000
            validated = "RequestValidatorId" in method and "application/json" in method.get("RequestModels", {})
            assert validated == (path in STREAM_PATHS), path
        else:
            assert "ResponseTransferMode" not in integration or integration["ResponseTransferMode"] == "BUFFERED"
            assert streaming_lid not in uri and "/2015-03-31/functions/" in uri
    assert {p for p, _ in methods} >= STREAM_PATHS | OPENAI_STREAM_PATHS


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_the_streaming_function_runs_behind_the_web_adapter_in_response_stream_mode(config):
    resources = _api(config)
    _, fn = _streaming(resources)
    env = fn["Environment"]["Variables"]
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert env["AWS_LWA_PORT"] == "8080" and env["AWS_LWA_READINESS_CHECK_PATH"] == "/_health"
    layers = json.dumps(fn["Layers"])
    assert f":753240598075:layer:LambdaAdapterLayerArm64:{WEB_ADAPTER_LAYER_VERSION}" in layers
    assert "AWSLambdaPowertoolsPythonV3-python313-arm64" in layers  # pydantic for the request models
    assert fn["Architectures"] == ["arm64"] and fn["Runtime"] == "python3.13"
    assert fn["Timeout"] == STREAM_TIMEOUT.to_seconds() <= 15 * 60
    assert "MODELS_JSON" in env and "FEEDBACK_TABLE_NAME" not in env
    # The front door's own function is untouched: buffered, 28 s, its Python handler.
    front = [p for p in _functions(resources).values() if p["Handler"] == "frontdoor.handler.lambda_handler"]
    assert len(front) == 1 and "AWS_LWA_INVOKE_MODE" not in front[0]["Environment"]["Variables"]


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_the_streaming_role_may_stream_from_exactly_the_models_that_stream(config):
    """It streams from exactly the TGI text models, and calls (InvokeEndpoint only) the other
    text models: OpenAI's text routes answer them whole (docs/openai-compatibility.md)."""
    s = synth(CONFIGS[config])
    resources = s.template(s.deployment.api)["Resources"]
    _, fn = _streaming(resources)
    invoking = {st["Sid"]: st for st in _statements(resources, fn) if _actions(st) & INVOKE}
    models = _models(s)
    families = {m["family"] for m in models}
    text_families = {m["family"] for m in models if m["kind"] == "text"}
    assert set(invoking) == ({"StreamFromModels"} if families & set(TGI_FAMILIES) else set()) | (
        {"InvokeTextModels"} if text_families - set(TGI_FAMILIES) else set())
    front = [p for p in _functions(resources).values() if p["Handler"] == "frontdoor.handler.lambda_handler"][0]
    front_invoke = [r for st in _statements(resources, front) if "sagemaker:InvokeEndpoint" in _actions(st)
                    for r in _resources(st)]
    for statement in invoking.values():
        granted = _resources(statement)
        assert all(r != "*" and "*" not in json.dumps(r) for r in granted)
        # Every resource is one the front door may invoke (this deployment's endpoints and ICs).
        assert all(r in front_invoke for r in granted)
    if "InvokeTextModels" in invoking:
        assert _actions(invoking["InvokeTextModels"]) == {"sagemaker:InvokeEndpoint"}
    if "StreamFromModels" not in invoking:
        return
    statement = invoking["StreamFromModels"]
    assert _actions(statement) == INVOKE
    # ... exactly those of streaming models: one per own-endpoint model, endpoint + ICs when shared.
    granted = _resources(statement)
    assert len(granted) == _streamable_arn_count(s)
    if families - set(TGI_FAMILIES):  # ai21-j2, stable-diffusion, embeddings: never streamed from
        assert len(granted) < len(front_invoke)


def _models(s) -> list[dict]:
    """MODELS_JSON of the deployment, endpoint names standing for themselves."""
    from stacks.contract.lambda_env import frontdoor_models

    deployment = s.deployment
    names = {n: n for n in deployment.endpoints.endpoints}
    names.update({e.resolved.name: e.resolved.name for e in deployment.endpoints.shared.values()})
    return frontdoor_models(deployment.config, names, deployment.resolved, deployment.shared)


def _streamable_arn_count(s) -> int:
    streamable = [m for m in _models(s) if m["kind"] == "text" and m["family"] in TGI_FAMILIES]
    own = [m for m in streamable if not m.get("inference_component")]
    shared = {m["endpoint_name"] for m in streamable if m.get("inference_component")}
    return len(own) + len(shared) + len(streamable) - len(own)


def test_waf_throttling_and_access_logs_are_the_stages_so_they_cover_the_stream_methods():
    """The web ACL is associated with the stage, and throttling and access logs are stage
    settings (`MethodSettings` `*/*`): they apply to every method of the stage, the two
    streaming ones included; they all act on the request, which streaming leaves as it is."""
    resources = _api("default")
    [stage] = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert stage["AccessLogSetting"]["DestinationArn"] and stage["TracingEnabled"] is True
    assert [(m["ResourcePath"], m["HttpMethod"]) for m in stage["MethodSettings"]] == [("/*", "*")]
    [association] = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::WAFv2::WebACLAssociation"]
    assert "Ref" in json.dumps(association["ResourceArn"]) and "/stages/" in json.dumps(association["ResourceArn"])
