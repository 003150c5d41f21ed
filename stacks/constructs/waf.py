"""The API's web ACL: per-IP rate limiting and AWS managed rule groups, with its
own log group."""

from __future__ import annotations

from typing import Iterable

from aws_cdk import Aws, Fn, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

# Prompts and documents are large bodies by design, and users ask models to write HTML,
# scripts and file paths: these body rules of the common rule set only count (visible in
# WAF metrics/logs) instead of blocking.
COUNT_ONLY_BODY_RULES = (
    "SizeRestrictions_BODY", "CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY",
)


def protect_stage(scope: Construct, *, stage: apigw.Stage, rate_limit_per_5min: int, key: kms.IKey,
                  log_retention: logs.RetentionDays) -> wafv2.CfnWebACL:
    """`WebAcl` on `stage` (`WebAclAssociation`), logging to `WafLogs` (`WafLogging`),
    all children of `scope`.

    Rules: block a client IP above `rate_limit_per_5min` requests per 5 minutes;
    AWSManagedRulesCommonRuleSet (body rules counted only); AWSManagedRulesKnownBadInputsRuleSet.
    """
    acl = wafv2.CfnWebACL(
        scope,
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
                        limit=rate_limit_per_5min, aggregate_key_type="IP"
                    )
                ),
                visibility_config=_visibility("rate-per-ip"),
            ),
            _managed_rule_group("AWSManagedRulesCommonRuleSet", 1, "common-rules", count_only=COUNT_ONLY_BODY_RULES),
            # Request patterns known to exploit vulnerable backends, e.g. Log4j JNDI
            # lookups (CVE-2021-44228) in headers, URI or body.
            _managed_rule_group("AWSManagedRulesKnownBadInputsRuleSet", 2, "known-bad-inputs"),
        ],
    )
    wafv2.CfnWebACLAssociation(
        scope, "WebAclAssociation", resource_arn=stage.stage_arn, web_acl_arn=acl.attr_arn
    )
    waf_logs = logs.LogGroup(
        scope, "WafLogs",
        # WAF delivers only to log groups whose names start with aws-waf-logs-, so this
        # one cannot have a generated name. The stack id's UUID makes the name unique per
        # stack *creation*: the group is retained (audit evidence), and a fixed name would
        # make the next create after a destroy or a failed first create fail with
        # AlreadyExists (CloudFormation: "DeletionPolicy attribute").
        log_group_name=Fn.join("-", [
            f"aws-waf-logs-{Stack.of(scope).stack_name}", Fn.select(2, Fn.split("/", Aws.STACK_ID)),
        ]),
        retention=log_retention, encryption_key=key,
        removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    )
    wafv2.CfnLoggingConfiguration(
        scope, "WafLogging", resource_arn=acl.attr_arn, log_destination_configs=[waf_logs.log_group_arn]
    )
    return acl


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _managed_rule_group(
    name: str, priority: int, metric_name: str, count_only: Iterable[str] = ()
) -> wafv2.CfnWebACL.RuleProperty:
    """A rule running AWS's managed rule group `name` with its own actions, except the
    `count_only` rules of the group, which only count."""
    overrides = [
        wafv2.CfnWebACL.RuleActionOverrideProperty(
            name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
        )
        for rule in count_only
    ]
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=name, rule_action_overrides=overrides or None,
            )
        ),
        visibility_config=_visibility(metric_name),
    )
