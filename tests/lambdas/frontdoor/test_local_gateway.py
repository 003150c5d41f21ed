"""The local server's API Gateway: routing from the contract and IAM (SigV4) authorization."""

from __future__ import annotations

import json
import time

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.gateway import Routes
from local.iam import AuthRefused, iam_identity

HOST = "127.0.0.1:8080"


def signed(method: str, path: str, body: bytes = b"", secret: str = "local", key: str = "local",
           region: str = "us-east-1", service: str = "execute-api") -> list[tuple[str, str]]:
    request = AWSRequest(method=method, url=f"http://{HOST}{path}", data=body,
                         headers={"Content-Type": "application/json", "Host": HOST})
    SigV4Auth(Credentials(key, secret), service, region).add_auth(request)
    return list(request.headers.items())


def test_routes_are_the_contracts_resources_and_methods():
    routes = Routes.from_contract()
    assert routes.allows("GET", "/v1/models") and routes.allows("POST", "/v1/generate")
    assert routes.allows("GET", "/v1/openapi.json")  # served, not documented
    assert routes.allows("GET", "/v1/jobs/" + "0" * 32) and routes.allows("GET", "/v1/jobs/a%2Fb?x=1")
    assert routes.allows("POST", "/v1/templates/anything")
    assert not routes.allows("GET", "/v1/generate") and not routes.allows("HEAD", "/v1/models")
    assert not routes.allows("GET", "/v1/jobs/") and not routes.allows("GET", "/v1/jobs/a/b")
    assert not routes.allows("GET", "/") and not routes.allows("GET", "/v1/nothing")


def test_a_signed_request_gets_the_users_identity():
    body = json.dumps({"inputs": "hi"}).encode()
    identity = iam_identity("POST", "/v1/generate?x=1", signed("POST", "/v1/generate?x=1", body), body)
    assert identity["userArn"] == "arn:aws:iam::123456789012:user/local" and identity["accessKey"] == "local"


@pytest.mark.parametrize(("headers", "error_type"), [
    ([], "MissingAuthenticationTokenException"),
    ([("Authorization", "Bearer abc")], "IncompleteSignatureException"),
    ([("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/execute-api/aws4_request")],
     "IncompleteSignatureException"),
])
def test_unsigned_or_malformed_authorization_is_refused(headers, error_type):
    with pytest.raises(AuthRefused) as refused:
        iam_identity("GET", "/v1/models", headers, b"")
    assert refused.value.error_type == error_type


@pytest.mark.parametrize("change", ["secret", "key", "body", "path", "service", "expired"])
def test_a_wrong_signature_is_refused(change):
    body = b'{"inputs": "hi"}'
    headers = signed("POST", "/v1/generate", body, secret="other" if change == "secret" else "local",
                     key="AKIDOTHER" if change == "key" else "local",
                     service="s3" if change == "service" else "execute-api")
    path = "/v1/templates/x" if change == "path" else "/v1/generate"
    sent = body + b" " if change == "body" else body
    with pytest.raises(AuthRefused) as refused:
        iam_identity("POST", path, headers, sent, now=time.time() + 3600 if change == "expired" else None)
    assert refused.value.response_type == "INVALID_SIGNATURE"


def test_the_iam_front_refuses_unsigned_calls_and_serves_signed_ones(stack):
    from local.openapi_fuzz_hooks import SigV4

    front = stack.front(auth="iam")
    unsigned = requests.get(f"{front.url}/v1/models", timeout=10)
    assert unsigned.status_code == 403 and unsigned.json()["error"] == "MISSING_AUTHENTICATION_TOKEN"
    assert unsigned.headers["x-request-id"] == unsigned.json()["request_id"]
    ok = requests.get(f"{front.url}/v1/models", auth=SigV4("local", "local", "us-east-1"), timeout=10)
    assert ok.status_code == 200 and ok.json()["models"]
    # An unknown route is refused before authorization, signed or not.
    unknown = requests.get(f"{front.url}/v1/nothing", auth=SigV4("local", "local", "us-east-1"), timeout=10)
    assert unknown.status_code == 403 and unknown.json()["message"] == "Missing Authentication Token"
