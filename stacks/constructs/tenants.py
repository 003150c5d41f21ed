"""Tenant keys (config `api.auth: tenant_keys`, docs/tenants.md): the keys and usage tables,
the Lambda REQUEST authorizer (`lambdas/tenants/authorizer.py`) and one API Gateway usage
plan per tier."""

from __future__ import annotations

import json

from aws_cdk import CfnOutput, Duration, Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.compliance.control_tower import acknowledge_control
from stacks.config import TenantsConfig
from stacks.constructs.python_function import FunctionNetwork, PythonFunction
from stacks.constructs.tables import retained_table

USAGE_TTL_ATTRIBUTE = "expires_at"  # lambdas/tenants/budget.py KEEP_DAYS sets it on usage items
# What tools/tenants.py reads from the Api stack (tools/tenant_admin.py OUTPUT_*).
OUTPUT_KEYS_TABLE, OUTPUT_USAGE_TABLE, OUTPUT_PLANS = "TenantKeysTable", "TenantUsageTable", "TenantUsagePlans"
# Lambda invokes the authorizer synchronously for API Gateway, which waits at most 29 s
# for the whole request; a key lookup is one GetItem.
AUTHORIZER_TIMEOUT = Duration.seconds(10)
NO_DLQ = ("Invoked only synchronously, by API Gateway as the API's authorizer: a failure is the "
          "caller's 500 at once, and a Lambda DLQ receives only asynchronous invocations.")


class TenantKeys(Construct):
    """The tenant keys of one API: `KeysTable` (key hash -> tenant, tier, status, API key),
    `UsageTable` (monthly token counters and daily usage per tenant and model; DynamoDB TTL
    `expires_at`), both encrypted with the API's data key, point-in-time recovery on and
    retained (`tables.retained_table`), and `AuthorizerFunction`, the REQUEST authorizer.

    `authorizer(api)`'s `Authorizer` caches answers for `cache_ttl_seconds` per Authorization
    header; `bind(api)` adds one usage plan per tier on the API's stage and the stack outputs
    `tools/tenants.py` reads. Attributes: keys_table, usage_table, function (PythonFunction),
    plans (tier -> UsagePlan).
    """

    def __init__(self, scope: Construct, id_: str, *, cfg: TenantsConfig, key: kms.IKey,
                 log_retention: logs.RetentionDays, why_no_vpc: str,
                 network: FunctionNetwork | None = None) -> None:
        super().__init__(scope, id_)
        self.cfg = cfg
        self.keys_table = retained_table(self, "KeysTable", key, "key_hash")
        self.usage_table = retained_table(self, "UsageTable", key, "pk", sort="sk", ttl=USAGE_TTL_ATTRIBUTE)
        self.function = PythonFunction(
            self, "AuthorizerFunction", handler="tenants.authorizer.handler",
            description="API tenant keys: REQUEST authorizer (Bearer key -> tenant, tier, usage plan key)",
            timeout=AUTHORIZER_TIMEOUT, reserved_concurrency=None, key=key, log_retention=log_retention,
            why_no_dlq=NO_DLQ, why_no_vpc=why_no_vpc, network=network, memory_mb=256,
            # Plain boto3 and the standard library: nothing to load but what a lookup needs.
            powertools=False, logging_format=lambda_.LoggingFormat.JSON,
            environment={
                "TENANT_KEYS_TABLE": self.keys_table.table_name,
                "TENANT_TIERS_JSON": json.dumps(cfg.authorizer_tiers(), separators=(",", ":")),
            },
        )
        # One GetItem per uncached request; kms:Decrypt on the table's key comes with the
        # function's encrypted environment (same key).
        self.function.role.add_to_policy(iam.PolicyStatement(
            sid="ReadKeys", actions=["dynamodb:GetItem"], resources=[self.keys_table.table_arn],
        ))
        self.plans: dict[str, apigw.UsagePlan] = {}
        self._authorizer: apigw.RequestAuthorizer | None = None

    def authorizer(self) -> apigw.RequestAuthorizer:
        """`Authorizer`: identity source the Authorization header, answers cached for
        `cache_ttl_seconds` (0: every request runs the function)."""
        if self._authorizer is None:
            self._authorizer = apigw.RequestAuthorizer(
                self, "Authorizer", handler=self.function.function,
                identity_sources=[apigw.IdentitySource.header("Authorization")],
                results_cache_ttl=Duration.seconds(self.cfg.cache_ttl_seconds),
            )
            self._scope_invoke_permission()
        return self._authorizer

    def _scope_invoke_permission(self) -> None:
        """CDK's permission for the authorizer has SourceArn (this API's authorizers,
        `arn:...:execute-api:<region>:<account>:<api-id>/authorizers/<id>`, as the API
        Gateway Developer Guide's authorizer setup grants it); SourceAccount is added, as the
        proxy integrations' permissions have it (AWS Control Tower CT.LAMBDA.PR.2)."""
        stack = Stack.of(self)
        for child in self.function.function.node.children:
            if isinstance(child, lambda_.CfnPermission):
                child.source_account = stack.account
        if Token.is_unresolved(stack.account):
            acknowledge_control(
                self.function.function, "CT.LAMBDA.PR.2",
                "The authorizer's permission is scoped by SourceArn (this API's authorizers) and "
                "SourceAccount, but an environment-agnostic config has no literal account for the "
                "control to read; set `account` in the config and the control passes.",
            )

    def bind(self, api: apigw.RestApi) -> None:
        """One usage plan per tier on `api`'s deployed stage (rate, burst, quota), and the
        stack outputs naming the tables and the plans."""
        for name, tier in sorted(self.cfg.tiers.items()):
            quota = None
            if tier.quota is not None:
                quota = apigw.QuotaSettings(limit=tier.quota.limit, period=apigw.Period[tier.quota.period])
            self.plans[name] = api.add_usage_plan(
                f"Plan-{name}", name=f"{Stack.of(self).stack_name}-{name}",
                description=f"tenant tier {name}",
                throttle=apigw.ThrottleSettings(rate_limit=tier.rate_limit, burst_limit=tier.burst_limit),
                quota=quota,
                api_stages=[apigw.UsagePlanPerApiStage(api=api, stage=api.deployment_stage)],
            )
        stack = Stack.of(self)
        CfnOutput(stack, OUTPUT_KEYS_TABLE, value=self.keys_table.table_name,
                  description="tenant keys table (tools/tenants.py)")
        CfnOutput(stack, OUTPUT_USAGE_TABLE, value=self.usage_table.table_name,
                  description="tenant usage table (tools/usage_report.py)")
        CfnOutput(stack, OUTPUT_PLANS, description="tier -> usage plan id (tools/tenants.py)",
                  value=stack.to_json_string({n: p.usage_plan_id for n, p in self.plans.items()}))

    def grant_usage(self, role: iam.IRole) -> None:
        """A function that counts budgets and records usage: UpdateItem on the usage table only."""
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="CountTenantUsage", actions=["dynamodb:UpdateItem"], resources=[self.usage_table.table_arn],
        ))
