"""The API front door: one Lambda function behind the REST API and its web ACL,
with the feedback table and the async summarization jobs it writes to."""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.config import ApiConfig, ObjectLockConfig
from stacks.constructs.api_gateway import build_rest_api
from stacks.constructs.python_function import FunctionNetwork, PythonFunction
from stacks.constructs.summarizer import SummarizeJobs
from stacks.constructs.tables import feedback_table
from stacks.constructs.tenants import TenantKeys
from stacks.constructs.waf import protect_stage
from stacks.contract.lambda_env import feedback_env

# API Gateway cuts integrations at 29 s; the function must answer first.
FRONT_DOOR_TIMEOUT = Duration.seconds(28)
# The streaming function (issue 12): API Gateway streams for up to 15 minutes ("Stream the
# integration response for your proxy integrations in API Gateway"); 5 minutes hold a 4,096-token
# answer at ~30 ms per token (a g5 7B) with room to spare, and bound what one stream can cost.
STREAM_TIMEOUT = Duration.minutes(5)
# AWS Lambda Web Adapter: lets a Python function stream (only Node.js managed runtimes stream
# natively). Published by AWS as a public layer in every commercial region, arm64 and x86_64:
# arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerArm64:<version>
# (aws/aws-lambda-web-adapter, docs/guide/src/getting-started/zip-packages.md; arm64 in every
# region of .github/workflows/prod.json; China regions have other accounts and no arm64).
WEB_ADAPTER_ACCOUNT = "753240598075"
WEB_ADAPTER_LAYER_VERSION = 30
WEB_ADAPTER_PORT = "8080"
ASLEEP_METRIC = "ModelAsleepResponses"
SCALING_UP_METRIC = "ModelScalingUpResponses"

# The reasons of every function of the front door and its jobs (see PythonFunction).
NO_DLQ = (
    "Never invoked asynchronously (API Gateway calls it synchronously; the worker is fed by "
    "an SQS event source whose queue has its own dead-letter queue), so a Lambda DLQ would "
    "never receive anything."
)
NO_VPC = (
    "Runs outside a VPC: it reaches only AWS APIs (SageMaker runtime, DynamoDB, SQS, S3) over "
    "TLS with SigV4, and the deployment has no VPC unless network.mode enables one."
)


@dataclass(frozen=True)
class FrontDoorProps:
    api: ApiConfig
    models_json: str
    key: kms.IKey
    access_logs: s3.IBucket
    log_retention: logs.RetentionDays
    # Some model on a shared endpoint may be at zero copies: its calls answer 503
    # model_scaling_up by design while a copy starts (counted apart from real faults).
    scale_to_zero: bool = False
    # Config `object_lock`, for the jobs bucket.
    object_lock: ObjectLockConfig | None = None
    # Config `network.functions_in_vpc`: where every function of the front door attaches.
    network: FunctionNetwork | None = None


class FrontDoor(Construct):
    """Regional REST API -> one Lambda; IAM auth (or Cognito) on every method,
    request validation, stage throttling, WAF rate limiting, JSON access logs, X-Ray.

    Its parts, one module each: `api_gateway` (the REST API, its routes and request
    models from the front door's OpenAPI document), `api_auth` (IAM or Cognito),
    `waf` (the web ACL and its logs), `tables` (the feedback table), `summarize_jobs`.

    With `api.auth: tenant_keys`, `tenants` (a `TenantKeys`: key and usage tables, the
    authorizer, a usage plan per tier); both functions then count budgets and usage
    (TENANT_USAGE_TABLE).

    Attributes: api, function, handler, streaming (the `/stream` routes' function), feedback_table,
    jobs, asleep_responses, tenants (None unless tenant_keys).
    """

    def __init__(self, scope: Construct, id_: str, *, props: FrontDoorProps) -> None:
        super().__init__(scope, id_)
        api_cfg = props.api
        self.feedback_table = feedback_table(self, props.key)
        self.jobs = SummarizeJobs(
            self, "Jobs", key=props.key, access_logs=props.access_logs, log_retention=props.log_retention,
            max_concurrency=api_cfg.jobs_max_concurrency,
            environment={
                "MODELS_JSON": props.models_json,
                "SUMMARIZE_MAX_CONCURRENCY": str(api_cfg.summarize_max_concurrency),
            },
            why_no_dlq=NO_DLQ, why_no_vpc=NO_VPC, object_lock=props.object_lock, network=props.network,
        )
        env = {
            **self.jobs.environment,
            "FEEDBACK_TABLE_NAME": self.feedback_table.table_name,
        }
        if api_cfg.extra_templates:
            env["EXTRA_TEMPLATES_JSON"] = json.dumps(api_cfg.extra_templates, separators=(",", ":"))
        # Prompts and outputs kept for the feedback loop: user data, only when the config says so.
        env.update(feedback_env(api_cfg))
        self.handler = PythonFunction(
            self, "Handler", handler="frontdoor.handler.lambda_handler",
            description="API front door: templates, generation, images, feedback, summaries",
            timeout=FRONT_DOOR_TIMEOUT, reserved_concurrency=api_cfg.reserved_concurrency,
            environment=env, key=props.key, log_retention=props.log_retention,
            why_no_dlq=NO_DLQ, why_no_vpc=NO_VPC, network=props.network,
        )
        self.function = self.handler.function
        self.streaming = self._build_streaming(props)
        self.tenants = self._build_tenants(props)
        # With stored generations, feedback reads the generation it rates (GetItem) to check its ids.
        self.handler.role.add_to_policy(iam.PolicyStatement(
            sid="StoreFeedback",
            actions=["dynamodb:PutItem", *(["dynamodb:GetItem"] if api_cfg.feedback.store_generations else [])],
            resources=[self.feedback_table.table_arn],
        ))
        self.jobs.grant_submit(self.handler.role)
        self.asleep_responses = self._build_asleep_metric()
        self.scaling_up_responses = (
            self._count_answers("ScalingUpResponses", "model_scaling_up", SCALING_UP_METRIC)
            if props.scale_to_zero else None
        )
        self.api = build_rest_api(
            self, function=self.function, cfg=api_cfg, key=props.key, log_retention=props.log_retention,
            streaming_function=self.streaming.function,
            tenant_authorizer=self.tenants.authorizer() if self.tenants else None,
        )
        if self.tenants is not None:
            self.tenants.bind(self.api)
        protect_stage(
            self, stage=self.api.deployment_stage, rate_limit_per_5min=api_cfg.waf_rate_limit_per_5min,
            key=props.key, log_retention=props.log_retention,
        )

    def _build_tenants(self, props: FrontDoorProps) -> TenantKeys | None:
        """`Tenants` with api.auth tenant_keys: the front door and the streaming function get the
        usage table (env TENANT_USAGE_TABLE, UpdateItem only: budgets and usage are ADDs)."""
        if props.api.auth != "tenant_keys":
            return None
        tenants = TenantKeys(self, "Tenants", cfg=props.api.tenants, key=props.key,
                             log_retention=props.log_retention, why_no_vpc=NO_VPC, network=props.network)
        for function in (self.handler, self.streaming):
            function.function.add_environment("TENANT_USAGE_TABLE", tenants.usage_table.table_name)
            tenants.grant_usage(function.role)
        return tenants

    def _build_streaming(self, props: FrontDoorProps) -> PythonFunction:
        """The streaming function (`frontdoor/stream_server.py`): the `/stream` routes' token streams
        through the AWS Lambda Web Adapter, which runs as its runtime (the exec wrapper execs the
        handler, a script starting the web server) and streams the server's answer as the
        invocation's response stream (`AWS_LWA_INVOKE_MODE=response_stream`). Same models and
        templates as the front door; no feedback table (streams are not stored for feedback)."""
        stack = Stack.of(self)
        env = {
            "MODELS_JSON": props.models_json,
            "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
            "AWS_LWA_INVOKE_MODE": "response_stream",
            "AWS_LWA_PORT": WEB_ADAPTER_PORT,
            "AWS_LWA_READINESS_CHECK_PATH": "/_health",
            # A web server has no handler invocation to hang X-Ray subsegments on; the
            # function's own trace (active tracing) still records every invocation.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        if props.api.extra_templates:
            env["EXTRA_TEMPLATES_JSON"] = json.dumps(props.api.extra_templates, separators=(",", ":"))
        web_adapter = lambda_.LayerVersion.from_layer_version_arn(
            self, "WebAdapter",
            f"arn:{stack.partition}:lambda:{stack.region}:{WEB_ADAPTER_ACCOUNT}:layer:"
            f"LambdaAdapterLayerArm64:{WEB_ADAPTER_LAYER_VERSION}",
        )
        return PythonFunction(
            self, "Streaming", handler="frontdoor/stream.sh",
            description="API front door: token streams (/stream routes) through the Lambda Web Adapter",
            timeout=STREAM_TIMEOUT, reserved_concurrency=None, environment=env, key=props.key,
            log_retention=props.log_retention, why_no_dlq=NO_DLQ, why_no_vpc=NO_VPC, layers=[web_adapter],
            network=props.network,
        )

    def _build_asleep_metric(self) -> cloudwatch.Metric:
        """503 model_asleep answers, counted from the front door's own log lines.

        Calls to a sleeping model answer 503 by design (the front door is waking it), and
        API Gateway counts them in 5XXError; alarms subtract this count to see real faults.
        A metric filter on this deployment's log group keeps the count per deployment.
        """
        return self._count_answers("AsleepResponses", "model_asleep", ASLEEP_METRIC)

    def _count_answers(self, id_: str, code: str, metric_name: str) -> cloudwatch.Metric:
        """Answers with error `code`, counted from the front door's own log lines (503s by
        design: model_asleep while a sleeping model wakes, model_scaling_up while a model on
        a shared endpoint gets its first copy)."""
        namespace = f"FmPlatform/{Stack.of(self).stack_name}"
        # The streaming function answers the same errors before a stream's first token, logged alike
        # (frontdoor/stream_server.py): both log groups feed the one metric.
        for filter_id, log_group in ((id_, self.handler.log_group), (f"Stream{id_}", self.streaming.log_group)):
            logs.MetricFilter(
                self, filter_id,
                log_group=log_group,
                # frontdoor.api logs every mapped error as {"message": "request failed", "error": code, ...}.
                filter_pattern=logs.FilterPattern.all(
                    logs.FilterPattern.string_value("$.message", "=", "request failed"),
                    logs.FilterPattern.string_value("$.error", "=", code),
                ),
                metric_namespace=namespace,
                metric_name=metric_name,
                metric_value="1",
            )
        return cloudwatch.Metric(namespace=namespace, metric_name=metric_name, statistic="Sum")
