"""API Gateway's IAM (``AWS_IAM``) authorization, emulated: SigV4 (service
``execute-api``) checked against the local IAM users' secret keys."""

from __future__ import annotations

import calendar
import hashlib
import hmac
import time

from local.gateway import MISSING_TOKEN_MESSAGE

ACCOUNT_ID = "123456789012"
# The local IAM users: access key -> (secret key, ARN). The one user has the dummy
# credentials of LOCAL_ENV (local.lambda_runtime), so a client signing with them is that user, e.g.
# `AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local python tools/call_api.py
# --url http://127.0.0.1:8080 --region us-east-1 GET /v1/models`, or local.openapi_fuzz_hooks.
LOCAL_IAM_USERS: dict[str, tuple[str, str]] = {"local": ("local", f"arn:aws:iam::{ACCOUNT_ID}:user/local")}
SIGV4_SERVICE = "execute-api"
SIGV4_MAX_SKEW_S = 5 * 60  # a signature's X-Amz-Date may be this far from now, either way


class AuthRefused(Exception):
    """API Gateway's IAM authorization refused the request (always a 403)."""

    def __init__(self, response_type: str, error_type: str, message: str) -> None:
        super().__init__(message)
        self.response_type, self.error_type, self.message = response_type, error_type, message


def _refuse_signature(message: str, error_type: str = "InvalidSignatureException") -> AuthRefused:
    return AuthRefused("INVALID_SIGNATURE", error_type, message)


def iam_identity(method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes,
                 region: str = "us-east-1", users: dict[str, tuple[str, str]] | None = None,
                 now: float | None = None) -> dict[str, str]:
    """API Gateway's IAM (``AWS_IAM``) authorization of one request, emulated: the
    SigV4 signature (service ``execute-api``) is checked against the signing user's
    secret key, over the headers it names, the path and query as sent and the body.
    Returns what API Gateway then puts in ``requestContext.identity``; raises
    ``AuthRefused`` with API Gateway's answer otherwise. (No IAM policy is evaluated:
    every local user may invoke every method.)"""
    users = LOCAL_IAM_USERS if users is None else users
    received: dict[str, str] = {}
    for name, value in headers:
        received[name.lower()] = value
    fields = _authorization_fields(received)
    access_key, day = _credential_scope(fields["Credential"], region, users)
    stamp = received["x-amz-date"]
    _check_date(stamp, day, now)
    payload_hash = received.get("x-amz-content-sha256")
    if payload_hash is not None and payload_hash != hashlib.sha256(body).hexdigest():
        raise _refuse_signature("The provided x-amz-content-sha256 header does not match what was computed.")
    secret, arn = users[access_key]
    expected = _signature(method, raw_path, received, body, fields["SignedHeaders"].split(";"),
                          access_key, secret, stamp, region)
    if not hmac.compare_digest(expected.encode(), fields["Signature"].encode("utf-8", "surrogatepass")):
        raise _refuse_signature("The request signature we calculated does not match the signature you provided. "
                                "Check your AWS Secret Access Key and signing method. Consult the service "
                                "documentation for details.")
    return {"accountId": ACCOUNT_ID, "accessKey": access_key, "caller": access_key, "user": access_key,
            "userArn": arn}


def _authorization_fields(received: dict[str, str]) -> dict[str, str]:
    """The ``Authorization`` header's key=value fields, once it is a complete SigV4 one
    (with its ``X-Amz-Date``); API Gateway's refusal otherwise."""
    authorization = received.get("authorization")
    if not authorization:
        raise AuthRefused("MISSING_AUTHENTICATION_TOKEN", "MissingAuthenticationTokenException",
                          MISSING_TOKEN_MESSAGE)
    algorithm, _, rest = authorization.strip().partition(" ")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, equals, value = part.strip().partition("=")
        if not equals:
            raise _refuse_signature(f"Invalid key=value pair (missing equal-sign) in Authorization header: "
                                    f"'{authorization[:64]}'.", "IncompleteSignatureException")
        fields[key] = value
    problems = [f"Authorization header requires '{key}' parameter." for key in ("Credential", "Signature",
                                                                               "SignedHeaders") if key not in fields]
    if "x-amz-date" not in received:
        problems.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if algorithm != "AWS4-HMAC-SHA256":
        problems.insert(0, f"Unsupported Authorization Type '{algorithm[:32]}'.")
    if problems:
        raise _refuse_signature(" ".join(problems) + f" Authorization={authorization[:64]}",
                                "IncompleteSignatureException")
    return fields


def _credential_scope(credential: str, region: str, users: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """The access key and day of a ``Credential`` scoped to ``region`` and ``execute-api``,
    of a known user."""
    scope = credential.split("/")
    if len(scope) != 5 or scope[2:] != [region, SIGV4_SERVICE, "aws4_request"]:
        raise _refuse_signature(f"Credential should be scoped to a valid region and to the service "
                                f"'{SIGV4_SERVICE}': '{credential[:128]}'.")
    access_key, day = scope[0], scope[1]
    if access_key not in users:
        raise AuthRefused("INVALID_SIGNATURE", "UnrecognizedClientException",
                          "The security token included in the request is invalid.")
    return access_key, day


def _check_date(stamp: str, day: str, now: float | None) -> None:
    """``X-Amz-Date`` well formed, within the allowed skew of ``now`` and on the scope's day."""
    try:
        signed_at = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
    except (ValueError, OverflowError):
        raise _refuse_signature(f"Date must be in ISO-8601 'basic format'. Got '{stamp[:32]}'.",
                                "IncompleteSignatureException") from None
    if abs((time.time() if now is None else now) - signed_at) > SIGV4_MAX_SKEW_S or not stamp.startswith(day):
        raise _refuse_signature(f"Signature expired: {stamp} is outside the allowed time window.")


def _signature(method: str, raw_path: str, received: dict[str, str], body: bytes, signed_names: list[str],
               access_key: str, secret: str, stamp: str, region: str) -> str:
    """The SigV4 signature of the request as received, computed with botocore's signer."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=f"http://{received.get('host', '')}{raw_path}",
                         headers={name: received.get(name, "") for name in signed_names}, data=body)
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(access_key, secret), SIGV4_SERVICE, region)
    return signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
