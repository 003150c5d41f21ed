"""Session fixtures for the front-door and summarizer HTTP tests: emulator + moto + local
HTTP server + the local jobs worker.

Everything listens on 127.0.0.1 port 0. The environment the handler needs is set
only while the stack builds its clients, then restored, so other packages' tests
in the same session (tests/lambdas/summarizer) see an untouched environment.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest

from tests.lambdas.embedding_helpers import bge_entry
from tests.lambdas.local_catalog import CATALOG, OPERATOR_TEMPLATES

MODELS: list[dict[str, Any]] = [
    *CATALOG,
    # Two models sharing one endpoint as inference components (issue 11).
    {"name": "falcon-shared", "model_id": "huggingface-llm-falcon-7b-instruct-bf16", "endpoint_name": "ep-shared",
     "inference_component": "ic-falcon-shared", "family": "falcon", "kind": "text", "max_input_length": 1024,
     "max_total_tokens": 2048, "instance_type": "ml.g5.12xlarge", "instance_count": 1, "default": False},
    {"name": "mistral-shared", "model_id": "huggingface-llm-mistral-7b-instruct", "endpoint_name": "ep-shared",
     "inference_component": "ic-mistral-shared", "family": "mistral", "kind": "text", "max_input_length": 4095,
     "max_total_tokens": 4096, "instance_type": "ml.g5.12xlarge", "instance_count": 1, "default": False},
    # The pinned embedding model (POST /v1/embeddings).
    bge_entry(),
    # An endpoint the emulator does not know: exercises the unexpected-error path.
    {"name": "ghost", "model_id": "huggingface-llm-falcon-7b-bf16", "endpoint_name": "ep-ghost", "family": "falcon",
     "kind": "text", "max_input_length": 1024, "max_total_tokens": 2048, "instance_type": "ml.g5.2xlarge",
     "instance_count": 1, "default": False},
]

SYNC_BUDGET_S = 15
# The tenant tiers of the session stack's tenant gateway: one model and a small token budget,
# every model and no budget.
TENANT_TIERS = {
    "metered": {"rate_limit": 50, "burst_limit": 100, "quota": None, "models": ["falcon-7b-instruct"],
                "monthly_token_budget": 100},
    "gold": {"rate_limit": 50, "burst_limit": 100, "quota": None, "models": ["*"], "monthly_token_budget": None},
}
# api.feedback: {store_generations: true, retention_days: 30}, as the Api stack passes it.
FEEDBACK_ENV = {"FEEDBACK_STORE_GENERATIONS": "true", "FEEDBACK_RETENTION_DAYS": "30"}
# A job waiting for an inference component to scale out runs again every second (60 s deployed).
CAPACITY_RETRY_S = 1



@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-request-id")


class Api:
    """A tiny HTTP client for the local front door (stdlib only)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
             content_type: str = "application/json") -> Reply:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, headers, payload = response.status, response.headers, response.read()
        except urllib.error.HTTPError as err:
            status, headers, payload = err.code, err.headers, err.read()
        return Reply(status, {k.lower(): v for k, v in headers.items()}, json.loads(payload) if payload else None)

    def get(self, path: str) -> Reply:
        return self.call("GET", path)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.call("POST", path, body, **kwargs)


@pytest.fixture(scope="session")
def stack():
    from local.stack import start_stack

    # A 15 s sync budget (25 s deployed): one-call texts stay inline, a 10-page document becomes a job.
    # Generations are stored for feedback (api.feedback.store_generations), as in a deployment
    # collecting preference data: the feedback loop is tested end to end over this stack.
    from stacks.config import TenantsConfig

    # Tenant keys (api.auth: tenant_keys) are served by a second gateway in front of the same
    # functions (`tenant_front`); this stack's own gateway authorizes no one, as `make serve`.
    local = start_stack(MODELS, port=0, extra_templates=OPERATOR_TEMPLATES, sync_budget_s=SYNC_BUDGET_S,
                        capacity_retry_s=CAPACITY_RETRY_S, extra_env=FEEDBACK_ENV,
                        tenants=TenantsConfig.model_validate({"tiers": TENANT_TIERS}), tenant_front_only=True)
    local.emulator.remove_endpoint("ep-ghost")
    local.restore_env()
    yield local
    local.stop()


@pytest.fixture(scope="session")
def models() -> list[dict[str, Any]]:
    """The MODELS_JSON entries the local stack runs (a fixture: importing this conftest as a
    module would execute it a second time under another name)."""
    return MODELS


@pytest.fixture(scope="session")
def api(stack) -> Api:
    return Api(stack.url)


@pytest.fixture(scope="session")
def tenant_front(stack):
    """A gateway authorizing tenant keys (the real authorizer, keys in moto) before the same functions."""
    return stack.front(auth="tenant_keys")


@pytest.fixture(scope="session")
def tenant_admin(stack):
    """`tools/tenants.py`'s admin over the session stack's keys table and usage plans."""
    from tools.tenant_admin import TenantAdmin

    return TenantAdmin(stack.tenants)


@pytest.fixture
def emulator(stack):
    """The running emulator with faults and the call log cleared before and after each test."""
    stack.emulator.reset()
    yield stack.emulator
    stack.emulator.reset()
