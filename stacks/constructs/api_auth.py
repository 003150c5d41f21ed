"""Who may call the API: IAM (SigV4) on every method, or a Cognito user pool."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from constructs import Construct

from stacks.compliance.nag import acknowledge
from stacks.config import ApiConfig


def method_auth(scope: Construct, api: apigw.RestApi, cfg: ApiConfig) -> dict:
    """`add_method` options for every method. With `api.auth: cognito`, a `UserPool`
    (MFA required, no self sign-up) and its `Authorizer`, children of `scope`."""
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
