"""Who may call the API: IAM (SigV4) on every method, a Cognito user pool, or tenant keys
(a Lambda REQUEST authorizer and API keys from it, `stacks/constructs/tenants.py`)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from constructs import Construct

from stacks.compliance.nag import acknowledge
from stacks.config import ApiConfig


def method_auth(scope: Construct, api: apigw.RestApi, cfg: ApiConfig,
                tenant_authorizer: apigw.IAuthorizer | None = None) -> dict:
    """`add_method` options for every method. With `api.auth: cognito`, a `UserPool`
    (MFA required, no self sign-up) and its `Authorizer`, children of `scope`; with
    `tenant_keys`, `tenant_authorizer` and an API key on every method (API Gateway takes it
    from the authorizer's usageIdentifierKey: the RestApi's ApiKeySourceType AUTHORIZER)."""
    if cfg.auth == "tenant_keys":
        if tenant_authorizer is None:
            raise ValueError("api.auth tenant_keys: method_auth needs the tenant authorizer")
        acknowledge(
            api,
            "Every method requires a tenant key checked by the tenant Lambda authorizer (config "
            "api.auth: tenant_keys, for OpenAI-style Bearer clients); api.auth: cognito switches to a "
            "user-pool authorizer.",
            "AwsSolutions-COG4",
        )
        return {"authorization_type": apigw.AuthorizationType.CUSTOM, "authorizer": tenant_authorizer,
                "api_key_required": True}
    if cfg.auth == "iam":
        acknowledge(
            api,
            "Every method requires IAM (SigV4) authorization (config api.auth: iam), which suits "
            "service-to-service callers; api.auth: cognito switches to a user-pool authorizer.",
            "AwsSolutions-COG4",
        )
        return {"authorization_type": apigw.AuthorizationType.IAM}
    # Loaded only when used: aws_cognito's bindings cost ~80 ms at every synth otherwise.
    from aws_cdk import aws_cognito as cognito

    pool = cognito.UserPool(
        scope, "UserPool", self_sign_up_enabled=False, mfa=cognito.Mfa.REQUIRED,
        mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
        password_policy=cognito.PasswordPolicy(
            min_length=12, require_symbols=True, require_digits=True, require_uppercase=True,
            require_lowercase=True,
        ),
        feature_plan=cognito.FeaturePlan.PLUS,
        standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
        removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    )
    authorizer = apigw.CognitoUserPoolsAuthorizer(scope, "Authorizer", cognito_user_pools=[pool])
    return {"authorization_type": apigw.AuthorizationType.COGNITO, "authorizer": authorizer}
