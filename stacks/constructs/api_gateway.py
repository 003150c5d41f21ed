"""The regional REST API in front of one Lambda function: routes and request
models from the front door's OpenAPI document, request validation, JSON error
bodies, stage throttling, access logs and X-Ray."""

from __future__ import annotations

import re

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.compliance.control_tower import acknowledge_control
from stacks.compliance.nag import acknowledge
from stacks.compliance.scanner import skip_checkov
from stacks.config import ApiConfig
from stacks.constructs.api_auth import method_auth
from stacks.contract import openapi

API_STAGE = "api"

# Same shape as the Lambda's error bodies: {"error", "message", "request_id"}.
# messageString arrives JSON-quoted; validationErrorString does not.
ERROR_BODY = '{"error":"$context.error.responseType","message":$context.error.messageString,"request_id":"$context.requestId"}'
VALIDATION_BODY = '{"error":"validation_error","message":"$context.error.validationErrorString","request_id":"$context.requestId"}'


def build_rest_api(scope: Construct, *, function: lambda_.IFunction, cfg: ApiConfig, key: kms.IKey,
                   log_retention: logs.RetentionDays,
                   operations: list[openapi.Operation] | None = None,
                   streaming_function: lambda_.IFunction | None = None,
                   tenant_authorizer: apigw.IAuthorizer | None = None) -> apigw.RestApi:
    """`Api` (with its `AccessLogs` group and, for Cognito, `UserPool`/`Authorizer`; for tenant
    keys, `tenant_authorizer` on every method),
    children of `scope`, proxying every operation of the contract to `function`, and every
    operation that answers server-sent events (`Operation.streams`) to `streaming_function`
    with response streaming (`_stream_integration`).

    Each operation with a request body gets a model (its draft-4 schema) and the body
    validator; each method lists the statuses the document gives it plus those the
    gateway answers itself (`gateway_statuses`), which the document must then have too
    (tests/stacks/test_openapi.py).
    """
    operations = openapi.operations(openapi.load()) if operations is None else operations
    access_logs = _access_logs(scope, key, log_retention)
    api = _rest_api(scope, cfg, access_logs)
    _add_json_gateway_responses(api)
    body_validator = api.add_request_validator(
        "BodyValidator", validate_request_body=True, validate_request_parameters=True
    )
    auth = method_auth(scope, api, cfg, tenant_authorizer)
    integration, stream_integration = _integrations(api, operations, function, streaming_function)
    for op in operations:
        _add_method(api, op, cfg, auth, body_validator, stream_integration if op.streams else integration)
    _acknowledge_api_findings(api)
    return api


def _access_logs(scope: Construct, key: kms.IKey, log_retention: logs.RetentionDays) -> logs.LogGroup:
    """The stage's access-log group (`AccessLogs`), encrypted with `key` and kept on delete."""
    return logs.LogGroup(
        scope, "AccessLogs", retention=log_retention, encryption_key=key,
        removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    )


def _rest_api(scope: Construct, cfg: ApiConfig, access_logs: logs.ILogGroup) -> apigw.RestApi:
    """The regional `Api` and its `api` stage: X-Ray, metrics, error logging, throttling from
    `cfg`, JSON access logs to `access_logs`."""
    return apigw.RestApi(
        scope,
        "Api",
        # ApiName is the dimension of the API's CloudWatch metrics: a per-deployment name
        # keeps two deployments in one region from reading each other's traffic.
        rest_api_name=Stack.of(scope).stack_name,
        description="Foundation-model front door",
        endpoint_types=[apigw.EndpointType.REGIONAL],
        # Tenant keys: usage plans take the API key from the authorizer's usageIdentifierKey
        # (API Gateway Developer Guide, "Choose an API key source in API Gateway").
        api_key_source_type=apigw.ApiKeySourceType.AUTHORIZER if cfg.auth == "tenant_keys" else None,
        cloud_watch_role=True,
        cloud_watch_role_removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        deploy_options=apigw.StageOptions(
            stage_name=API_STAGE,
            tracing_enabled=True,
            metrics_enabled=True,
            logging_level=apigw.MethodLoggingLevel.ERROR,
            data_trace_enabled=False,
            throttling_rate_limit=cfg.throttle_rate_limit,
            throttling_burst_limit=cfg.throttle_burst_limit,
            access_log_destination=apigw.LogGroupLogDestination(access_logs),
            access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                caller=True, http_method=True, ip=True, protocol=True, request_time=True,
                resource_path=True, response_length=True, status=True, user=True,
            ),
        ),
    )


def _add_json_gateway_responses(api: apigw.RestApi) -> None:
    """Errors API Gateway answers itself get the Lambda's JSON error body (`ERROR_BODY`),
    and a rejected request body the validator's message (`VALIDATION_BODY`)."""
    for response_type in (apigw.ResponseType.DEFAULT_4_XX, apigw.ResponseType.DEFAULT_5_XX):
        api.add_gateway_response(
            f"Json{response_type.response_type}",
            type=response_type,
            templates={"application/json": ERROR_BODY},
        )
    api.add_gateway_response(
        "BadRequestBody",
        type=apigw.ResponseType.BAD_REQUEST_BODY,
        templates={"application/json": VALIDATION_BODY},
    )


def _integrations(
    api: apigw.RestApi,
    operations: list[openapi.Operation],
    function: lambda_.IFunction,
    streaming_function: lambda_.IFunction | None,
) -> tuple[apigw.Integration, apigw.Integration | None]:
    """The proxy integration to `function`, and the streaming one to `streaming_function`
    (None when the contract streams nothing); a streaming contract needs the function."""
    integration = _proxy_integration(function, api)
    streaming = [op for op in operations if op.streams]
    if streaming and streaming_function is None:
        raise ValueError(f"the contract streams {[f'{o.method} {o.path}' for o in streaming]}: "
                         "build_rest_api needs a streaming_function")
    stream_integration = _stream_integration(streaming_function, api, {o.method for o in streaming}) \
        if streaming else None
    return integration, stream_integration


def _add_method(api: apigw.RestApi, op: openapi.Operation, cfg: ApiConfig, auth: dict,
                body_validator: apigw.RequestValidator, integration: apigw.Integration) -> None:
    """The method of one operation: `auth`, its body model and validator (if it has a
    request body), the statuses it documents, and `integration`."""
    path = op.path.strip("/")
    options: dict = dict(auth)
    validates_body = op.request_model is not None and not op.function_validates
    if validates_body:
        model = api.add_model(
            model_id(op.method, path),
            content_type=openapi.JSON,
            schema=json_schema(op.request_model),
        )
        options.update(request_validator=body_validator, request_models={openapi.JSON: model})
    statuses = set(op.statuses) | gateway_statuses(validates_body=validates_body, auth=cfg.auth)
    # With a proxy integration these only document: the function's status passes through.
    options["method_responses"] = [apigw.MethodResponse(status_code=s) for s in sorted(statuses)]
    api.root.resource_for_path(path).add_method(op.method, integration, **options)


def _acknowledge_api_findings(api: apigw.RestApi) -> None:
    """The nag findings and checkov checks the API and its stage raise by design."""
    acknowledge(
        api,
        "API Gateway's account-level CloudWatch role uses the AWS managed policy "
        "AmazonAPIGatewayPushToCloudWatchLogs, which is scoped to log delivery.",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
    )
    acknowledge(
        api.deployment_stage,
        "Responses are per-request model output and never cacheable; a cache cluster would "
        "only cost money.",
        "NIST.800.53.R5-APIGWCacheEnabledAndEncrypted",
        "HIPAA.Security-APIGWCacheEnabledAndEncrypted",
    )
    skip_checkov(
        api.deployment_stage,
        "CKV_AWS_120",
        "Responses are per-request model output and never cacheable; a cache cluster would only "
        "cost money.",
    )
    acknowledge(
        api.deployment_stage,
        "Backend auth is IAM (SigV4) to a Lambda proxy integration; API Gateway client "
        "certificates authenticate HTTP backends, which this API does not have.",
        "NIST.800.53.R5-APIGWSSLEnabled",
        "HIPAA.Security-APIGWSSLEnabled",
    )


def gateway_statuses(*, validates_body: bool, auth: str) -> set[str]:
    """The statuses API Gateway answers itself on one of these methods, before the function
    runs, by what this module configures (Developer Guide, "Gateway response types for API
    Gateway"): 400 BAD_REQUEST_BODY where the body is validated; 403 MISSING_AUTHENTICATION_TOKEN,
    INVALID_SIGNATURE, EXPIRED_TOKEN or ACCESS_DENIED (every method needs auth) and WAF_FILTERED
    (the web ACL); 401 UNAUTHORIZED from a Cognito or Lambda (tenant keys) authorizer; 429 THROTTLED
    (stage throttling; with tenant keys also the usage plan's throttle and quota); 413
    REQUEST_TOO_LARGE (a body over the 10 MB payload quota, on any method).
    Integration failures (502/504) are left to the document: any proxy method can have them."""
    statuses = {"403", "413", "429"}
    if validates_body:
        statuses.add("400")
    if auth in ("cognito", "tenant_keys"):
        statuses.add("401")
    return statuses


def _proxy_integration(function: lambda_.IFunction, api: apigw.RestApi) -> apigw.Integration:
    """A Lambda proxy integration with ONE invoke permission for the whole API.

    `LambdaIntegration` adds two permissions per method (the stage and the console's
    test-invoke-stage): 20 resource-policy statements for 10 methods, near Lambda's
    20 KB policy limit as routes grow. One statement scoped to this API's deployed
    stage and this account (SourceArn + SourceAccount, AWS Control Tower control
    CT.LAMBDA.PR.2) covers every method; console test invocations are not allowed.
    """
    return _lambda_integration(function, api, "ApiInvoke", "*", "2015-03-31", "invocations")


def _lambda_integration(
    function: lambda_.IFunction,
    api: apigw.RestApi,
    permission_id: str,
    method: str,
    api_version: str,
    action: str,
    options: apigw.IntegrationOptions | None = None,
) -> apigw.Integration:
    """An AWS_PROXY integration calling `function` through Lambda's `api_version`/`action`
    path, and the one invoke permission `permission_id` for `method` on the deployed stage,
    scoped by SourceArn and SourceAccount (CT.LAMBDA.PR.2)."""
    stack = Stack.of(api)
    if Token.is_unresolved(stack.account):
        acknowledge_control(
            function, "CT.LAMBDA.PR.2",
            "The permission is scoped by SourceArn (this API's deployed stage) and SourceAccount, "
            "but an environment-agnostic config has no literal account for the control to read; "
            "set `account` in the config and the control passes.",
        )
    function.add_permission(
        permission_id,
        principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
        source_arn=api.arn_for_execute_api(method=method, path="/*", stage=API_STAGE),
        source_account=stack.account,
    )
    return apigw.Integration(
        type=apigw.IntegrationType.AWS_PROXY,
        integration_http_method="POST",
        uri=f"arn:{stack.partition}:apigateway:{stack.region}:lambda:path/{api_version}/functions/"
            f"{function.function_arn}/{action}",
        options=options,
    )


# API Gateway Developer Guide, "Stream the integration response for your proxy integrations in
# API Gateway": response streaming is for proxy integrations only (AWS_PROXY, HTTP_PROXY),
# `responseTransferMode: STREAM`, up to 15 minutes per stream, an idle timeout of 5 minutes
# (Regional endpoints; 30 s edge-optimized), and the integration timeout may be set up to 15
# minutes; "Set up a Lambda proxy integration with payload response streaming": API Gateway
# calls InvokeWithResponseStream, whose integration URI is
# `arn:aws:apigateway:<region>:lambda:path/2021-11-15/functions/<function ARN>/response-streaming-invocations`.
# Method request settings (IAM or Cognito auth, request validators) and the stage's settings
# (throttling, access logs, X-Ray, the WAF web ACL) apply to these methods as to every other:
# they act on the request, before the integration; response mapping (VTL templates) does not
# exist for proxy integrations anyway.
# aws-cdk-lib 2.275.0 has `IntegrationOptions.response_transfer_mode` (rendered as the method's
# `Integration.ResponseTransferMode`; no escape hatch needed), and cfn-lint 1.58's schema of
# AWS::ApiGateway::Method knows the property (enum BUFFERED | STREAM) in every region.
STREAM_INTEGRATION_TIMEOUT = Duration.minutes(5)


def _stream_integration(function: lambda_.IFunction, api: apigw.RestApi, methods: set[str]) -> apigw.Integration:
    """A Lambda proxy integration that streams (`ResponseTransferMode: STREAM`), with one
    invoke permission for the streaming methods of the deployed stage.

    `lambda:InvokeFunction` is the permission InvokeWithResponseStream needs (Lambda API
    Reference, "InvokeWithResponseStream": "This operation requires permission for the
    lambda:InvokeFunction action"); SourceArn and SourceAccount scope it as the front door's.
    """
    return _lambda_integration(
        function, api, "ApiInvokeStream", methods.pop() if len(methods) == 1 else "*",
        "2021-11-15", "response-streaming-invocations",
        apigw.IntegrationOptions(response_transfer_mode=apigw.ResponseTransferMode.STREAM,
                                 timeout=STREAM_INTEGRATION_TIMEOUT),
    )


def model_id(method: str, path: str) -> str:
    """`v1/templates/{name}` -> `V1TemplatesNameBody` (the construct id, hence the logical id,
    of a POST body's model; other methods' models are prefixed with the method)."""
    name = "".join(p.capitalize() for p in path.replace("{", "").replace("}", "").replace(".", "/").split("/"))
    return f"{'' if method == 'POST' else method.capitalize()}{name}Body"


def json_schema(schema: dict) -> apigw.JsonSchema:
    """A draft-4 schema (plain JSON, as `openapi.draft4` returns it) as CDK's `JsonSchema`.

    CDK renders it back key for key (and adds `$schema`: draft 4); the construct is what
    the deployment's hash sees, so a model change redeploys the stage.
    """
    kwargs: dict = {}
    for key, value in schema.items():
        name = _SNAKE.get(key) or re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()
        if key == "type":
            value = [_type(t) for t in value] if isinstance(value, list) else _type(value)
        elif key in ("properties", "patternProperties", "definitions"):
            value = {k: json_schema(v) for k, v in value.items()}
        elif key in ("allOf", "anyOf", "oneOf"):
            value = [json_schema(v) for v in value]
        elif key == "items":
            value = [json_schema(v) for v in value] if isinstance(value, list) else json_schema(value)
        elif key in ("not", "additionalProperties", "additionalItems"):
            value = value if isinstance(value, bool) else json_schema(value)
        elif key == "dependencies":
            value = {k: v if isinstance(v, list) else json_schema(v) for k, v in value.items()}
        kwargs[name] = value
    return apigw.JsonSchema(**kwargs)


_SNAKE = {"not": "not_", "$schema": "schema", "id": "id"}


def _type(name: str) -> apigw.JsonSchemaType:
    return apigw.JsonSchemaType[name.upper()]
