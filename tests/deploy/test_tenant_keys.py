"""Tenant keys (api.auth: tenant_keys) as API Gateway and Lambda need them at deploy time.

Nothing static checks these: an authorizer whose function API Gateway may not invoke
deploys and then answers every request 500; usage plans not bound to the stage, or a
REST API whose ApiKeySourceType is HEADER, deploy and then never see the authorizer's
usageIdentifierKey (every tenant call 403, or no tenant throttled); a table encrypted
with a key its readers may not use answers AccessDenied at the first call.
"""

from __future__ import annotations

import json

import pytest

from tests.deploy.model import (
    ACCOUNT,
    Deployment,
    Res,
    allows_action,
    assert_none,
    covers,
    identity_documents,
    key_policy,
    listify,
    statements,
)


def _tenant(dep: Deployment) -> None:
    if dep.config.api.auth != "tenant_keys" or not dep.config.api.enabled:
        pytest.skip(f"{dep.name}: api.auth is {dep.config.api.auth}")


def _authorizers(dep: Deployment) -> list[Res]:
    return dep.resources("AWS::ApiGateway::Authorizer")


def _function_of(dep: Deployment, authorizer: Res) -> Res:
    """The function the AuthorizerUri invokes (`.../functions/<Fn::GetAtt Function.Arn>/invocations`)."""
    uri = json.dumps(authorizer.props["AuthorizerUri"])
    [function] = {f for f in dep.resources("AWS::Lambda::Function")
                  if f.stack == authorizer.stack and f'["{f.lid}", "Arn"]' in uri}
    return function


def test_no_authorizer_without_tenant_keys(deployment):
    if deployment.config.api.auth != "tenant_keys":
        assert not [a for a in _authorizers(deployment) if a.props.get("Type") == "REQUEST"]


def test_the_authorizer_may_be_invoked_by_this_apis_authorizers_only(deployment):
    """Some permission of the authorizer's function lets `apigateway.amazonaws.com` invoke it
    with SourceArn `arn:aws:execute-api:<region>:<account>:<api-id>/authorizers/<authorizer-id>`
    and SourceAccount this account.

    Source: API Gateway Developer Guide, "Configure an API Gateway Lambda authorizer" (the
    console adds, and the CLI example grants, `lambda add-permission --principal
    apigateway.amazonaws.com --source-arn "arn:aws:execute-api:<region>:<account>:<api-id>/authorizers/<authorizer-id>"`),
    https://docs.aws.amazon.com/apigateway/latest/developerguide/configure-api-gateway-lambda-authorization.html ;
    AWS Control Tower CT.LAMBDA.PR.2 for SourceAccount."""
    dep = deployment
    _tenant(dep)
    problems = []
    for authorizer in _authorizers(dep):
        function = _function_of(dep, authorizer)
        api = dep.render(authorizer.stack, authorizer.props["RestApiId"])
        expected = f"arn:aws:execute-api:{dep.region}:{ACCOUNT}:{api}/authorizers/{{{authorizer.stack}/{authorizer.lid}}}"
        allowed = [
            p for p in dep.resources("AWS::Lambda::Permission")
            if dep.references(p.stack, p.props.get("FunctionName"), function)
            and p.props.get("Principal") == "apigateway.amazonaws.com"
            and p.props.get("Action") == "lambda:InvokeFunction"
            and dep.render(p.stack, p.props.get("SourceArn")) == expected
            and dep.render(p.stack, p.props.get("SourceAccount")) == ACCOUNT
        ]
        if not allowed:
            problems.append(f"{dep.name}: {function} has no permission for {expected} from account {ACCOUNT}")
    assert _authorizers(dep), f"{dep.name}: tenant_keys without an authorizer"
    assert_none(problems, "API Gateway must be allowed to invoke the Lambda authorizer")


def test_api_keys_come_from_the_authorizer_on_every_method(deployment):
    """ApiKeySourceType AUTHORIZER, and every method ApiKeyRequired with the CUSTOM authorizer.

    Source: API Gateway Developer Guide, "Choose an API key source in API Gateway" (AUTHORIZER:
    the key comes from the authorizer's usageIdentifierKey; methods still need API keys
    required for usage plans to apply), https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html ;
    "Output from an API Gateway Lambda authorizer" (usageIdentifierKey)."""
    dep = deployment
    _tenant(dep)
    [api] = dep.resources("AWS::ApiGateway::RestApi")
    assert api.props.get("ApiKeySourceType") == "AUTHORIZER"
    [authorizer] = _authorizers(dep)
    problems = [
        f"{dep.name}: {m} ({m.props.get('HttpMethod')}) lacks the API key or the tenant authorizer"
        for m in dep.resources("AWS::ApiGateway::Method")
        if m.props.get("HttpMethod") != "OPTIONS" and not (
            m.props.get("ApiKeyRequired") is True and m.props.get("AuthorizationType") == "CUSTOM"
            and dep.ref(m.stack, m.props.get("AuthorizerId")) == authorizer)
    ]
    assert_none(problems, "every method needs the tenant authorizer and an API key")


def test_the_authorizer_reads_the_header_and_caches_for_the_configured_ttl(deployment):
    """REQUEST authorizer, identity source the Authorization header, AuthorizerResultTtlInSeconds
    = api.tenants.cache_ttl_seconds (0..3600).

    Source: AWS CloudFormation, AWS::ApiGateway::Authorizer (AuthorizerResultTtlInSeconds: "If it
    equals 0, authorization caching is disabled ... The maximum value is 3600"; IdentitySource
    `method.request.header.<name>` for REQUEST authorizers),
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-apigateway-authorizer.html"""
    dep = deployment
    _tenant(dep)
    [authorizer] = _authorizers(dep)
    assert authorizer.props["Type"] == "REQUEST"
    assert authorizer.props["IdentitySource"] == "method.request.header.Authorization"
    assert authorizer.props["AuthorizerResultTtlInSeconds"] == dep.config.api.tenants.cache_ttl_seconds


def test_one_usage_plan_per_tier_bound_to_the_stage(deployment):
    """Each tier is a usage plan on this API's stage with the tier's throttle and quota.

    Source: API Gateway Developer Guide, "Usage plans and API keys for REST APIs" (a usage plan
    applies to the API stages it lists; "API Gateway applies throttling and quotas on a best-effort
    basis"), https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html ;
    AWS::ApiGateway::UsagePlan (ApiStages, Throttle RateLimit/BurstLimit, Quota Limit/Period)."""
    dep = deployment
    _tenant(dep)
    [api] = dep.resources("AWS::ApiGateway::RestApi")
    [stage] = dep.resources("AWS::ApiGateway::Stage")
    plans = {p.props["Description"].removeprefix("tenant tier "): p for p in dep.resources("AWS::ApiGateway::UsagePlan")}
    assert set(plans) == set(dep.config.api.tenants.tiers)
    for name, tier in dep.config.api.tenants.tiers.items():
        props = plans[name].props
        [bound] = props["ApiStages"]
        assert dep.ref(plans[name].stack, bound["ApiId"]) == api and dep.ref(plans[name].stack, bound["Stage"]) == stage
        assert props["Throttle"] == {"RateLimit": tier.rate_limit, "BurstLimit": tier.burst_limit}
        quota = {"Limit": tier.quota.limit, "Period": tier.quota.period} if tier.quota else None
        assert props.get("Quota") == quota


def test_tenant_tables_are_encrypted_with_a_key_their_users_may_use(deployment):
    """The keys and usage tables use the API's customer-managed key; its key policy lets the
    account's IAM policies grant it, and every role that reads or writes a tenant table may
    kms:Decrypt with it.

    Source: Amazon DynamoDB Developer Guide, "DynamoDB encryption at rest: How it works"
    (customer managed key: "you must ... make sure the key policy allows" its use; callers
    need kms:Decrypt), https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html ;
    AWS KMS Developer Guide, "Default key policy" (the account principal lets IAM policies allow use)."""
    dep = deployment
    _tenant(dep)
    tables = [t for t in dep.resources("AWS::DynamoDB::Table") if "Tenants" in t.lid]
    assert len(tables) == 2, tables
    problems = []
    for table in tables:
        sse = table.props.get("SSESpecification", {})
        key = dep.ref(table.stack, sse.get("KMSMasterKeyId"))
        if not (sse.get("SSEEnabled") and sse.get("SSEType") == "KMS" and key is not None):
            problems.append(f"{dep.name}: {table} is not encrypted with a key of this deployment")
            continue
        root = f"arn:aws:iam::{ACCOUNT}:root"
        if not any(allows_action(s, "kms:Decrypt") and root in str(dep.render(key.stack, listify(
                (s.get("Principal") or {}).get("AWS"))[0] if isinstance(s.get("Principal"), dict) else None))
                for s in key_policy(key)):
            problems.append(f"{dep.name}: {key}'s policy does not let the account's IAM policies use it")
        for role in dep.resources("AWS::IAM::Role"):
            documents = identity_documents(dep, role)
            uses = any(covers(dep, stack, s, table) and any(allows_action(s, f"dynamodb:{a}") for a in ("GetItem", "UpdateItem"))
                       for stack, doc in documents for s in statements(doc))
            decrypts = any(covers(dep, stack, s, key) and allows_action(s, "kms:Decrypt")
                           for stack, doc in documents for s in statements(doc))
            if uses and not decrypts:
                problems.append(f"{dep.name}: {role} uses {table} but may not kms:Decrypt with {key}")
    assert_none(problems, "tenant tables need their key usable by their readers and writers")
