"""The API Gateway + Lambda front door and its async summarization jobs."""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import Aws, Duration, Fn, RemovalPolicy, Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stacks.config import ApiConfig
from stacks.constructs.python_function import PythonFunction
from stacks.constructs.roles import ManagedPolicyRole
from stacks.control_tower import acknowledge_control
from stacks.nag import acknowledge, finding_id
from stacks.scanner import skip_checkov

# API Gateway cuts integrations at 29 s; the function must answer first.
FRONT_DOOR_TIMEOUT = Duration.seconds(28)
# A worker run near its timeout hands the job back by re-enqueueing it, so runs can be
# short; short runs keep the visibility timeout (6x this) and a crashed job's retry near.
WORKER_TIMEOUT = Duration.minutes(5)
# Lambda, "Using Lambda with Amazon SQS": a visibility timeout of at least six times the
# function timeout, and a maxReceiveCount of at least 5 so that throttled or retried
# deliveries do not send a message to the dead-letter queue early.
VISIBILITY_PER_TIMEOUT = 6
# Deliveries of one job message before it moves to the dead-letter queue; the worker's
# last receive marks a crashed job FAILED (summarizer.worker.MAX_RECEIVES, a test pins it).
JOB_MAX_RECEIVES = 5
DEAD_LETTER_TIMEOUT = Duration.minutes(1)
ASLEEP_METRIC = "ModelAsleepResponses"
API_STAGE = "api"

_NO_DLQ = (
    "Never invoked asynchronously (API Gateway calls it synchronously; the worker is fed by "
    "an SQS event source whose queue has its own dead-letter queue), so a Lambda DLQ would "
    "never receive anything."
)
_NO_VPC = (
    "Runs outside a VPC: it reaches only AWS APIs (SageMaker runtime, DynamoDB, SQS, S3) over "
    "TLS with SigV4, and the deployment has no VPC unless network.mode enables one."
)

# (path, method, JSON-schema model or None). Clients name models, never endpoints.
ROUTES: list[tuple[str, str, dict | None]] = [
    ("v1/models", "GET", None),
    ("v1/templates", "GET", None),
    ("v1/openapi.json", "GET", None),
    ("v1/generate", "POST", {"required": ["inputs"], "properties": {"model": {"type": "string"}, "inputs": {"type": "string"}, "parameters": {"type": "object"}}}),
    ("v1/templates/{name}", "POST", {"properties": {"model": {"type": "string"}, "variables": {"type": "object"}, "parameters": {"type": "object"}}}),
    ("v1/images", "POST", {"required": ["prompt"], "properties": {"model": {"type": "string"}, "prompt": {"type": "string"}}}),
    ("v1/feedback", "POST", {"required": ["request_id"], "properties": {"request_id": {"type": "string"}, "comment": {"type": "string"}}}),
    ("v1/summarize", "POST", {"properties": {"model": {"type": "string"}, "text": {"type": "string"}, "s3_key": {"type": "string"}, "style": {"type": "string", "enum": ["paragraph", "bullets"]}}}),
    ("v1/jobs/{job_id}", "GET", None),
    ("v1/uploads", "POST", {"properties": {"content_length": {"type": "integer"}}}),
]

# Same shape as the Lambda's error bodies: {"error", "message", "request_id"}.
# messageString arrives JSON-quoted; validationErrorString does not.
_ERROR_BODY = '{"error":"$context.error.responseType","message":$context.error.messageString,"request_id":"$context.requestId"}'
_VALIDATION_BODY = '{"error":"validation_error","message":"$context.error.validationErrorString","request_id":"$context.requestId"}'


@dataclass(frozen=True)
class FrontDoorProps:
    api: ApiConfig
    models_json: str
    key: kms.IKey
    access_logs: s3.IBucket
    log_retention: logs.RetentionDays


def _table(scope: Construct, id_: str, key: kms.IKey, partition: str, sort: str | None = None,
           ttl: str | None = None) -> dynamodb.Table:
    table = dynamodb.Table(
        scope,
        id_,
        partition_key=dynamodb.Attribute(name=partition, type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name=sort, type=dynamodb.AttributeType.STRING) if sort else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute=ttl,
        # No deletion protection: with RetainExceptOnCreate, the one time CloudFormation deletes
        # the table is the rollback of a failed first create, and protection would turn that
        # into ROLLBACK_FAILED; stack deletes and updates keep the table by DeletionPolicy.
        deletion_protection=False,
        removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    )
    acknowledge(
        table,
        "Point-in-time recovery (35 days of continuous backups) is on; an AWS Backup plan is an "
        "account- or organization-level choice this app does not impose.",
        "NIST.800.53.R5-DynamoDBInBackupPlan",
        "HIPAA.Security-DynamoDBInBackupPlan",
    )
    return table


class SummarizeJobs(Construct):
    """Async summarization: SQS (with DLQ) -> worker Lambda; a DynamoDB job table
    with TTL and PITR; an encrypted bucket for inputs/results over 256 KB."""

    def __init__(self, scope: Construct, id_: str, *, props: FrontDoorProps, environment: dict[str, str]) -> None:
        super().__init__(scope, id_)
        from stacks.constructs.secure_bucket import SecureBucket

        self.table = _table(self, "Table", props.key, "job_id", ttl="expires_at")
        self.bucket = SecureBucket(
            self, "Bucket", key=props.key, access_logs=props.access_logs, log_prefix="jobs-bucket/",
            expire_after_days=7,
        ).bucket
        self.dlq = sqs.Queue(
            self, "DeadLetters", encryption=sqs.QueueEncryption.KMS, encryption_master_key=props.key,
            enforce_ssl=True, retention_period=Duration.days(14),
            # Declared as a dead-letter queue (SQS's default, made explicit): a DLQ needs no DLQ
            # of its own (AWS Control Tower CT.SQS.PR.1 exempts queues declared so).
            redrive_allow_policy=sqs.RedriveAllowPolicy(redrive_permission=sqs.RedrivePermission.ALLOW_ALL),
            # Its consumer is the dead-letter handler: the same 6x rule applies.
            visibility_timeout=Duration.seconds(DEAD_LETTER_TIMEOUT.to_seconds() * VISIBILITY_PER_TIMEOUT),
        )
        acknowledge(
            self.dlq,
            "This is the dead-letter queue of the jobs queue; a DLQ of a DLQ would only move the problem.",
            "AwsSolutions-SQS3",
            "Serverless-SQSRedrivePolicy",
        )
        self.queue = sqs.Queue(
            self, "Queue", encryption=sqs.QueueEncryption.KMS, encryption_master_key=props.key,
            enforce_ssl=True,
            # Duplicate deliveries are harmless: the worker leases the job record and
            # checkpoints every model call.
            visibility_timeout=Duration.seconds(WORKER_TIMEOUT.to_seconds() * VISIBILITY_PER_TIMEOUT),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=JOB_MAX_RECEIVES),
        )
        env = {
            "JOBS_TABLE_NAME": self.table.table_name,
            "JOBS_QUEUE_URL": self.queue.queue_url,
            "JOBS_BUCKET_NAME": self.bucket.bucket_name,
            **environment,
        }
        self.worker = PythonFunction(
            self, "Worker", handler="summarizer.worker.lambda_handler",
            description="Runs queued summarization jobs", timeout=WORKER_TIMEOUT,
            # No reservation: the SQS poller does not respect reserved concurrency (throttled
            # deliveries still count as receives and end in the DLQ); MaximumConcurrency on
            # the event source is the documented bound ("Configuring scaling behavior for SQS
            # event source mappings").
            reserved_concurrency=None, environment=env,
            key=props.key, log_retention=props.log_retention, memory_mb=1024,
            why_no_dlq=_NO_DLQ, why_no_vpc=_NO_VPC,
        )
        self.worker.function.add_event_source(sources.SqsEventSource(
            self.queue, batch_size=1, report_batch_item_failures=True,
            max_concurrency=props.api.jobs_max_concurrency,
        ))
        acknowledge(
            self.worker.function,
            "SQS event source mappings take no on-failure destination; failed jobs go to the "
            "queue's dead-letter queue after 5 receives, where the dead-letter handler marks them FAILED.",
            "Serverless-LambdaEventSourceMappingDestination",
        )
        self.dead_letters = self._build_dead_letter_handler(props, env)
        self.key = props.key
        self._grant_jobs(self.worker.role)
        # A worker near its timeout hands the job back by re-enqueueing it.
        self._grant_enqueue(self.worker.role)
        self.environment = env

    def _build_dead_letter_handler(self, props: FrontDoorProps, env: dict[str, str]) -> PythonFunction:
        """A job whose message reached the DLQ (throttled, timed out or crashed 5 times)
        would otherwise stay QUEUED or RUNNING forever: this marks it FAILED so its caller
        learns it (GET /v1/jobs/{id} shows job_dead_lettered)."""
        handler = PythonFunction(
            self, "DeadLetterHandler", handler="summarizer.dead_letters.lambda_handler",
            description="Marks summarization jobs whose messages were dead-lettered as FAILED",
            timeout=DEAD_LETTER_TIMEOUT, reserved_concurrency=None, environment=env,
            key=props.key, log_retention=props.log_retention, memory_mb=256,
            why_no_dlq=(
                "Fed by an SQS event source on the jobs dead-letter queue: a message it cannot "
                "process stays in that queue (14 days) and is retried, so a further DLQ would "
                "never receive anything."
            ),
            why_no_vpc=_NO_VPC,
        )
        handler.function.add_event_source(sources.SqsEventSource(
            self.dlq, batch_size=10, report_batch_item_failures=True, max_concurrency=2,
        ))
        acknowledge(
            handler.function,
            "SQS event source mappings take no on-failure destination; a dead letter this "
            "handler fails on stays in the dead-letter queue and is retried.",
            "Serverless-LambdaEventSourceMappingDestination",
        )
        handler.role.add_to_policy(iam.PolicyStatement(
            sid="FailDeadLetteredJobs", actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
            resources=[self.table.table_arn],
        ))
        handler.role.add_to_policy(iam.PolicyStatement(
            sid="JobTable", actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            resources=[props.key.key_arn],
        ))
        return handler

    def _grant_jobs(self, role: ManagedPolicyRole) -> None:
        role.add_to_policy(iam.PolicyStatement(
            sid="JobItems", actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            resources=[self.table.table_arn],
        ))
        objects = self.bucket.arn_for_objects("*")
        role.add_to_policy(iam.PolicyStatement(
            sid="JobObjects", actions=["s3:GetObject", "s3:PutObject"], resources=[objects],
        ))
        role.add_to_policy(iam.PolicyStatement(
            sid="JobData", actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            resources=[self.key.key_arn],
        ))
        acknowledge(
            role.policy,
            "Job inputs and results are objects keyed by job id (jobs/<id>/...) or by the caller's "
            "upload key, unknown at deploy time; access is limited to this one jobs bucket.",
            finding_id(self, "AwsSolutions-IAM5", objects),
        )

    def grant_submit(self, role: ManagedPolicyRole) -> None:
        """What the front door needs: create/read jobs, stage inputs, read results, enqueue."""
        self._grant_jobs(role)
        self._grant_enqueue(role)

    def _grant_enqueue(self, role: ManagedPolicyRole) -> None:
        role.add_to_policy(iam.PolicyStatement(
            sid="EnqueueJobs", actions=["sqs:SendMessage"], resources=[self.queue.queue_arn],
        ))


class FrontDoor(Construct):
    """Regional REST API -> one Lambda; IAM auth (or Cognito) on every method,
    request validation, stage throttling, WAF rate limiting, JSON access logs, X-Ray.

    Attributes: api, function, feedback_table, jobs.
    """

    def __init__(self, scope: Construct, id_: str, *, props: FrontDoorProps) -> None:
        super().__init__(scope, id_)
        api_cfg = props.api
        self.feedback_table = _table(self, "FeedbackTable", props.key, "pk", sort="sk")
        shared_env = {
            "MODELS_JSON": props.models_json,
            "SUMMARIZE_MAX_CONCURRENCY": str(api_cfg.summarize_max_concurrency),
        }
        self.jobs = SummarizeJobs(self, "Jobs", props=props, environment=shared_env)
        env = {
            **self.jobs.environment,
            "FEEDBACK_TABLE_NAME": self.feedback_table.table_name,
        }
        if api_cfg.extra_templates:
            env["EXTRA_TEMPLATES_JSON"] = json.dumps(api_cfg.extra_templates, separators=(",", ":"))
        self.handler = PythonFunction(
            self, "Handler", handler="frontdoor.handler.lambda_handler",
            description="API front door: templates, generation, images, feedback, summaries",
            timeout=FRONT_DOOR_TIMEOUT, reserved_concurrency=api_cfg.reserved_concurrency,
            environment=env, key=props.key, log_retention=props.log_retention,
            why_no_dlq=_NO_DLQ, why_no_vpc=_NO_VPC,
        )
        self.function = self.handler.function
        self.handler.role.add_to_policy(iam.PolicyStatement(
            sid="StoreFeedback", actions=["dynamodb:PutItem"], resources=[self.feedback_table.table_arn],
        ))
        self.jobs.grant_submit(self.handler.role)
        self.asleep_responses = self._build_asleep_metric()
        self.api = self._build_api(props)
        self._build_waf(props)

    def _build_asleep_metric(self) -> cloudwatch.Metric:
        """503 model_asleep answers, counted from the front door's own log lines.

        Calls to a sleeping model answer 503 by design (the front door is waking it), and
        API Gateway counts them in 5XXError; alarms subtract this count to see real faults.
        A metric filter on this deployment's log group keeps the count per deployment.
        """
        namespace = f"FmPlatform/{Stack.of(self).stack_name}"
        logs.MetricFilter(
            self, "AsleepResponses",
            log_group=self.handler.log_group,
            # frontdoor.api logs every mapped error as {"message": "request failed", "error": code, ...}.
            filter_pattern=logs.FilterPattern.all(
                logs.FilterPattern.string_value("$.message", "=", "request failed"),
                logs.FilterPattern.string_value("$.error", "=", "model_asleep"),
            ),
            metric_namespace=namespace,
            metric_name=ASLEEP_METRIC,
            metric_value="1",
        )
        return cloudwatch.Metric(namespace=namespace, metric_name=ASLEEP_METRIC, statistic="Sum")

    def _build_api(self, props: FrontDoorProps) -> apigw.RestApi:
        cfg = props.api
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=props.log_retention, encryption_key=props.key,
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        api = apigw.RestApi(
            self,
            "Api",
            # ApiName is the dimension of the API's CloudWatch metrics: a per-deployment name
            # keeps two deployments in one region from reading each other's traffic.
            rest_api_name=Stack.of(self).stack_name,
            description="Foundation-model front door",
            endpoint_types=[apigw.EndpointType.REGIONAL],
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
        for response_type in (apigw.ResponseType.DEFAULT_4_XX, apigw.ResponseType.DEFAULT_5_XX):
            api.add_gateway_response(
                f"Json{response_type.response_type}",
                type=response_type,
                templates={"application/json": _ERROR_BODY},
            )
        api.add_gateway_response(
            "BadRequestBody",
            type=apigw.ResponseType.BAD_REQUEST_BODY,
            templates={"application/json": _VALIDATION_BODY},
        )
        body_validator = api.add_request_validator(
            "BodyValidator", validate_request_body=True, validate_request_parameters=True
        )
        auth = self._method_auth(api, cfg)
        integration = self._proxy_integration(api)
        for path, method, schema in ROUTES:
            resource = api.root.resource_for_path(path)
            options: dict = dict(auth)
            if schema is not None:
                model = api.add_model(
                    _model_id(path),
                    content_type="application/json",
                    schema=_schema(schema),
                )
                options.update(request_validator=body_validator, request_models={"application/json": model})
            resource.add_method(method, integration, **options)
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
        return api

    def _proxy_integration(self, api: apigw.RestApi) -> apigw.Integration:
        """A Lambda proxy integration with ONE invoke permission for the whole API.

        `LambdaIntegration` adds two permissions per method (the stage and the console's
        test-invoke-stage): 20 resource-policy statements for 10 methods, near Lambda's
        20 KB policy limit as routes grow. One statement scoped to this API's deployed
        stage and this account (SourceArn + SourceAccount, AWS Control Tower control
        CT.LAMBDA.PR.2) covers every method; console test invocations are not allowed.
        """
        stack = Stack.of(self)
        if Token.is_unresolved(stack.account):
            acknowledge_control(
                self.function, "CT.LAMBDA.PR.2",
                "The permission is scoped by SourceArn (this API's deployed stage) and SourceAccount, "
                "but an environment-agnostic config has no literal account for the control to read; "
                "set `account` in the config and the control passes.",
            )
        self.function.add_permission(
            "ApiInvoke",
            principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
            source_arn=api.arn_for_execute_api(method="*", path="/*", stage=API_STAGE),
            source_account=stack.account,
        )
        return apigw.Integration(
            type=apigw.IntegrationType.AWS_PROXY,
            integration_http_method="POST",
            uri=f"arn:{stack.partition}:apigateway:{stack.region}:lambda:path/2015-03-31/functions/"
                f"{self.function.function_arn}/invocations",
        )

    def _method_auth(self, api: apigw.RestApi, cfg: ApiConfig) -> dict:
        if cfg.auth == "iam":
            acknowledge(
                api,
                "Every method requires IAM (SigV4) authorization (config api.auth: iam), which suits "
                "service-to-service callers; api.auth: cognito switches to a user-pool authorizer.",
                "AwsSolutions-COG4",
            )
            return {"authorization_type": apigw.AuthorizationType.IAM}
        pool = cognito.UserPool(
            self, "UserPool", self_sign_up_enabled=False, mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_symbols=True, require_digits=True, require_uppercase=True,
                require_lowercase=True,
            ),
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        authorizer = apigw.CognitoUserPoolsAuthorizer(self, "Authorizer", cognito_user_pools=[pool])
        return {"authorization_type": apigw.AuthorizationType.COGNITO, "authorizer": authorizer}

    def _build_waf(self, props: FrontDoorProps) -> None:
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("front-door"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="RatePerClientIp",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=props.api.waf_rate_limit_per_5min, aggregate_key_type="IP"
                        )
                    ),
                    visibility_config=_visibility("rate-per-ip"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name="AWSManagedRulesCommonRuleSet",
                    priority=1,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name="AWSManagedRulesCommonRuleSet",
                            # Prompts and documents are large bodies by design, and users ask
                            # models to write HTML, scripts and file paths: these body rules
                            # only count (visible in WAF metrics/logs) instead of blocking.
                            rule_action_overrides=[
                                wafv2.CfnWebACL.RuleActionOverrideProperty(
                                    name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                                )
                                for rule in _COUNT_ONLY_BODY_RULES
                            ],
                        )
                    ),
                    visibility_config=_visibility("common-rules"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name="AWSManagedRulesKnownBadInputsRuleSet",
                    priority=2,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    # Request patterns known to exploit vulnerable backends, e.g. Log4j JNDI
                    # lookups (CVE-2021-44228) in headers, URI or body.
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name="AWSManagedRulesKnownBadInputsRuleSet",
                        )
                    ),
                    visibility_config=_visibility("known-bad-inputs"),
                ),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation", resource_arn=self.api.deployment_stage.stage_arn, web_acl_arn=acl.attr_arn
        )
        waf_logs = logs.LogGroup(
            self, "WafLogs",
            # WAF delivers only to log groups whose names start with aws-waf-logs-, so this
            # one cannot have a generated name. The stack id's UUID makes the name unique per
            # stack *creation*: the group is retained (audit evidence), and a fixed name would
            # make the next create after a destroy or a failed first create fail with
            # AlreadyExists (CloudFormation: "DeletionPolicy attribute").
            log_group_name=Fn.join("-", [
                f"aws-waf-logs-{Stack.of(self).stack_name}", Fn.select(2, Fn.split("/", Aws.STACK_ID)),
            ]),
            retention=props.log_retention, encryption_key=props.key,
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        wafv2.CfnLoggingConfiguration(
            self, "WafLogging", resource_arn=acl.attr_arn, log_destination_configs=[waf_logs.log_group_arn]
        )


_COUNT_ONLY_BODY_RULES = (
    "SizeRestrictions_BODY", "CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY",
)


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _model_id(path: str) -> str:
    return "".join(p.capitalize() for p in path.replace("{", "").replace("}", "").replace(".", "/").split("/")) + "Body"


def _schema(schema: dict) -> apigw.JsonSchema:
    types = {"string": apigw.JsonSchemaType.STRING, "object": apigw.JsonSchemaType.OBJECT,
             "integer": apigw.JsonSchemaType.INTEGER}
    return apigw.JsonSchema(
        type=apigw.JsonSchemaType.OBJECT,
        required=schema.get("required"),
        properties={
            name: apigw.JsonSchema(type=types[p["type"]], enum=p.get("enum"))
            for name, p in schema.get("properties", {}).items()
        },
    )
