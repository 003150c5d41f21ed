"""Schemathesis hooks for ``local.openapi_fuzz``: every request is signed with SigV4
(service ``execute-api``) as the local IAM user, the way a client of the deployed
API (``api.auth: iam``) signs it. Loaded by the schemathesis CLI through
``SCHEMATHESIS_HOOKS=local.openapi_fuzz_hooks``.

Signing happens on the prepared request (``requests`` auth), so it covers the body
exactly as sent. Schemathesis' ``ignored_auth`` check sends its probes without this
auth, or with a made-up ``Authorization`` header: the local gateway must refuse those.
"""

from __future__ import annotations

import os

import requests
import schemathesis

from local.iam import LOCAL_IAM_USERS, SIGV4_SERVICE

ACCESS_KEY = os.environ.get("LOCAL_FUZZ_ACCESS_KEY", "local")
REGION = os.environ.get("LOCAL_FUZZ_REGION", "us-east-1")
_SIGNING_HEADERS = ("authorization", "x-amz-date", "x-amz-security-token")


class SigV4(requests.auth.AuthBase):
    """``requests`` auth that signs with botocore's SigV4 signer."""

    def __init__(self, access_key: str, secret_key: str, region: str, service: str = SIGV4_SERVICE) -> None:
        self.access_key, self.secret_key, self.region, self.service = access_key, secret_key, region, service

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SIGNING_HEADERS}
        signed = AWSRequest(method=request.method, url=request.url, headers=headers, data=body)
        SigV4Auth(Credentials(self.access_key, self.secret_key), self.service, self.region).add_auth(signed)
        for name in [k for k in request.headers if k.lower() in _SIGNING_HEADERS]:
            del request.headers[name]
        request.headers["Authorization"] = signed.headers["Authorization"]
        request.headers["X-Amz-Date"] = signed.headers["X-Amz-Date"]
        return request


schemathesis.auth.set_from_requests(SigV4(ACCESS_KEY, LOCAL_IAM_USERS[ACCESS_KEY][0], REGION))
