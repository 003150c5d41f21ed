"""The REQUEST authorizer: a known active key gets a stage-wide Allow, its tenant as principal,
its API key value as usageIdentifierKey and the tier's context; anything else is 401."""

from __future__ import annotations

import pytest

from tenants.authorizer import api_resource, bearer, handler

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/api/POST/v1/chat/completions"


def event(authorization: str | None, header: str = "Authorization") -> dict:
    return {"type": "REQUEST", "methodArn": METHOD_ARN,
            "headers": {} if authorization is None else {header: authorization}}


def test_a_known_key_is_allowed_on_every_route_of_the_stage(admin):
    key, record = admin.create("acme", "free")
    answer = handler(event(f"Bearer {key}"), None)
    assert answer["principalId"] == "acme"
    [statement] = answer["policyDocument"]["Statement"]
    # The cached answer serves the tenant's next requests on any route: the whole stage.
    assert statement == {"Action": "execute-api:Invoke", "Effect": "Allow",
                         "Resource": "arn:aws:execute-api:us-east-1:123456789012:abc123/api/*/*"}
    assert answer["usageIdentifierKey"] == record.api_key_value
    assert answer["context"] == {"tenant": "acme", "tier": "free", "models": "falcon-7b-instruct",
                                 "token_budget": 1000}
    # REST authorizer rule: context values are strings, numbers or booleans only.
    assert all(isinstance(v, (str, int, bool)) for v in answer["context"].values())


def test_a_tier_without_budget_or_model_list_says_so(admin):
    key, _ = admin.create("big", "gold")
    context = handler(event(f"bearer {key}", header="authorization"), None)["context"]
    assert context["models"] == "*" and context["token_budget"] == 0


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer sk-short",
    "Bearer sk-" + "A" * 43,  # well-formed, unknown
    "Bearer not-a-key-at-all-but-long-enough-to-look-like-one-xxxxxxxx",
])
def test_missing_malformed_and_unknown_keys_are_unauthorized(tenant_aws, authorization):
    with pytest.raises(Exception, match="^Unauthorized$"):
        handler(event(authorization), None)


def test_revoked_keys_are_unauthorized(admin):
    key, _ = admin.create("acme", "free")
    admin.revoke("acme")
    with pytest.raises(Exception, match="^Unauthorized$"):
        handler(event(f"Bearer {key}"), None)


def test_a_key_of_a_tier_the_config_dropped_is_unauthorized(admin, monkeypatch):
    from tenants import authorizer

    key, _ = admin.create("acme", "free")
    monkeypatch.setenv("TENANT_TIERS_JSON", '{"gold": {"models": ["*"], "monthly_token_budget": 0}}')
    authorizer.tiers.cache_clear()
    with pytest.raises(Exception, match="^Unauthorized$"):
        handler(event(f"Bearer {key}"), None)


def test_bearer_and_resource_helpers():
    assert bearer({"AUTHORIZATION": "  Bearer   tok "}) == "tok"
    assert bearer({"Authorization": "Token tok"}) is None
    assert api_resource(METHOD_ARN) == "arn:aws:execute-api:us-east-1:123456789012:abc123/api/*/*"
