"""API Gateway's Lambda REQUEST authorizer (config `api.auth: tenant_keys`), emulated: the
REAL `tenants.authorizer.handler` runs on each request as API Gateway would run it.

- The identity source is the Authorization header: without it API Gateway answers 401
  without calling the authorizer.
- `Exception("Unauthorized")` from the authorizer is 401 (gateway response UNAUTHORIZED),
  any other failure 500 (AUTHORIZER_FAILURE), a policy that does not allow the method 403
  (ACCESS_DENIED).
- Allowed answers are cached for `ttl_s`, keyed by the identity source's value (the
  header), and reused for every route: so a revoked key keeps working until its entry
  expires, as deployed.
- The answer's principalId and context become the proxy event's `requestContext.authorizer`
  (context values as strings, as API Gateway passes them to a Lambda proxy integration).
"""

from __future__ import annotations

import fnmatch
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from local.iam import ACCOUNT_ID

REGION = "us-east-1"
API_ID = "local"


@dataclass(frozen=True)
class GatewayAnswer:
    """A gateway response API Gateway sends instead of calling the integration."""

    status: int
    response_type: str
    message: str
    error_type: str


UNAUTHORIZED = GatewayAnswer(401, "UNAUTHORIZED", "Unauthorized", "UnauthorizedException")
ACCESS_DENIED = GatewayAnswer(403, "ACCESS_DENIED", "User is not authorized to access this resource",
                              "AccessDeniedException")
AUTHORIZER_FAILURE = GatewayAnswer(500, "AUTHORIZER_FAILURE", "Internal server error",
                                   "AuthorizerConfigurationException")


class Refused(Exception):
    """The authorizer step refused the request; `answer` is what the gateway sends."""

    def __init__(self, answer: GatewayAnswer) -> None:
        super().__init__(answer.message)
        self.answer = answer


class LocalAuthorizer:
    """Runs `handler` (a REQUEST authorizer) for each request, with API Gateway's cache."""

    def __init__(self, handler: Callable[[dict, Any], dict], ttl_s: int, stage: str = "local") -> None:
        self.handler, self.ttl_s, self.stage = handler, ttl_s, stage
        self.calls = 0
        self._cache: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def method_arn(self, method: str, path: str) -> str:
        return f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{self.stage}/{method.upper()}/{path.lstrip('/')}"

    def authorize(self, method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
        """`requestContext.authorizer` for an allowed request; raises `Refused` otherwise."""
        identity = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not identity.strip():
            raise Refused(UNAUTHORIZED)
        arn = self.method_arn(method, path)
        answer = self._cached(identity)
        if answer is None:
            answer = self._call(identity, method, path, headers, arn)
        if not _allows(answer.get("policyDocument") or {}, arn):
            raise Refused(ACCESS_DENIED)
        context = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (answer.get("context") or {}).items()}
        return {**context, "principalId": str(answer.get("principalId", ""))}

    def _cached(self, identity: str) -> dict | None:
        with self._lock:
            hit = self._cache.get(identity)
            if hit and hit[0] > time.monotonic():
                return hit[1]
            self._cache.pop(identity, None)
        return None

    def _call(self, identity: str, method: str, path: str, headers: dict[str, str], arn: str) -> dict:
        event = {"type": "REQUEST", "methodArn": arn, "resource": path, "path": path, "httpMethod": method.upper(),
                 "headers": dict(headers), "queryStringParameters": None, "pathParameters": None,
                 "stageVariables": None,
                 "requestContext": {"accountId": ACCOUNT_ID, "apiId": API_ID, "stage": self.stage,
                                    "httpMethod": method.upper(), "resourcePath": path}}
        self.calls += 1
        try:
            answer = self.handler(event, None)
        except Exception as err:  # noqa: BLE001 - API Gateway turns any failure into a gateway response
            raise Refused(UNAUTHORIZED if str(err) == "Unauthorized" else AUTHORIZER_FAILURE) from None
        if self.ttl_s > 0:
            with self._lock:
                self._cache[identity] = (time.monotonic() + self.ttl_s, answer)
        return answer


def _allows(policy: dict, arn: str) -> bool:
    """IAM policy evaluation, as far as authorizer policies go: an explicit Deny wins, else
    some Allow of execute-api:Invoke must match the method ARN (wildcards as in IAM)."""
    allowed = False
    for statement in policy.get("Statement") or []:
        resources = statement.get("Resource")
        resources = resources if isinstance(resources, list) else [resources]
        actions = statement.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", str(a)) for a in actions):
            continue
        if any(fnmatch.fnmatchcase(arn, str(r)) for r in resources):
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed
