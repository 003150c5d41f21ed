"""The local stack: the emulator, moto, the front door behind its API Gateway stand-in,
the streaming function's web server and the jobs queues' pollers, started together
(``start_stack``) and stopped together (``LocalStack.stop``)."""

from __future__ import annotations

import json
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from local.authorizer import LocalAuthorizer
from local.deployment import ROOT, emulator_endpoints
from local.emulator.server import Emulator
from local.gateway_server import FrontDoorHTTPServer
from local.lambda_runtime import LOCAL_ENV
from local.moto_backend import (FEEDBACK_TABLE, JOBS_DLQ, create_feedback_table, create_jobs_infra,
                                create_tenant_infra, start_moto)
from local.workers import DEAD_LETTERS_TIMEOUT_S, LocalWorker

# How long after a call met an inference component at zero copies the emulator has one
# running: AWS takes minutes (the alarm, an instance, the model); locally, seconds.
DEFAULT_SCALE_OUT_AFTER_S = 10.0


def _import_handler() -> Callable[[dict, Any], dict]:
    lambdas = str(ROOT / "lambdas")
    if lambdas not in sys.path:  # the Lambda asset root, as the runtime sees it
        sys.path.insert(0, lambdas)
    from frontdoor.handler import lambda_handler

    return lambda_handler


@dataclass
class LocalStack:
    emulator: Emulator
    server: FrontDoorHTTPServer
    moto: Any = None
    worker: LocalWorker | None = None
    dead_letters: LocalWorker | None = None
    saved_env: dict[str, str | None] = field(default_factory=dict)
    fronts: list[FrontDoorHTTPServer] = field(default_factory=list)
    stream_server: Any = None
    """The streaming function's web server (``frontdoor.stream_server.StreamServer``)."""
    tenants: Any = None
    """With tenant keys: where they live (``tools.tenant_admin.Resources``, for ``TenantAdmin``)."""
    authorizer: LocalAuthorizer | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def front(self, *, auth: str = "iam", host: str = "127.0.0.1", port: int = 0) -> FrontDoorHTTPServer:
        """Another API Gateway in front of the same handler, e.g. one that authorizes as
        the deployed API does (``auth="iam"``); stopped with the stack."""
        server = FrontDoorHTTPServer((host, port), self.server.lambda_handler, self.server.routes, auth=auth,
                                     invoke_lock=self.server.invoke_lock, stream_url=self.server.stream_url,
                                     authorizer=self.authorizer if auth == "tenant_keys" else None)
        threading.Thread(target=server.serve_forever, name=f"frontdoor-local-{auth}", daemon=True).start()
        self.fronts.append(server)
        return server

    def restore_env(self) -> None:
        """Put the process environment back; built clients keep their endpoints."""
        for key, value in self.saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self.saved_env.clear()

    def stop(self) -> None:
        for poller in (self.worker, self.dead_letters):
            if poller is not None:
                poller.stop()
        for server in (*self.fronts, self.server, *((self.stream_server,) if self.stream_server else ())):
            server.shutdown()
            server.server_close()
        self.emulator.stop()
        if self.moto is not None:
            self.moto.stop()
        self.restore_env()


def start_stack(models: list[dict[str, Any]], *, host: str = "127.0.0.1", port: int = 8080,
                first_token_ms: float = 0.0, per_token_ms: float = 0.0, feedback: bool = True,
                jobs: bool = True, sync_budget_s: float | None = None,
                extra_templates: list[dict[str, Any]] | None = None,
                extra_env: dict[str, str] | None = None, auth: str = "none", ic_copies: int = 1,
                scale_out_after_s: float | None = DEFAULT_SCALE_OUT_AFTER_S,
                capacity_retry_s: int | None = None, tenants: Any = None,
                tenant_front_only: bool = False) -> LocalStack:
    """Start emulator, moto (optional), the front door, the jobs worker and the jobs DLQ's consumer;
    returns handles to stop them.

    Sets the process environment the handlers read (MODELS_JSON, endpoints,
    dummy credentials) and builds the handlers' clients eagerly, so callers may
    ``restore_env()`` right after without affecting the running stack.
    ``sync_budget_s`` lowers the estimated model time POST /v1/summarize answers
    inline (SUMMARIZE_SYNC_BUDGET_S), so medium documents become jobs.
    ``auth="iam"`` makes the server authorize requests as the deployed API does
    (SigV4 with the local user's credentials, ``LOCAL_IAM_USERS``).
    Models on a shared endpoint start with ``ic_copies`` copies and scale out
    ``scale_out_after_s`` after a call met none; a job waiting for them runs again
    every ``capacity_retry_s`` (SUMMARIZE_CAPACITY_RETRY_S; default: as deployed, 60 s).
    ``tenants`` (config ``api.tenants``, a ``TenantsConfig``) authorizes as ``api.auth:
    tenant_keys`` does: the real authorizer against moto's keys table, usage plans per tier;
    with ``tenant_front_only`` the stack's own gateway keeps ``auth`` and only gateways made
    with ``front(auth="tenant_keys")`` authorize tenants (one stack serves both kinds of test).
    """
    endpoints = emulator_endpoints(models, first_token_ms, per_token_ms, ic_copies=ic_copies,
                                   scale_out_after_s=scale_out_after_s)
    emulator = Emulator(endpoints, host=host).start()
    env = {**LOCAL_ENV, "MODELS_JSON": json.dumps(models),
           "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": emulator.url, **(extra_env or {})}
    if sync_budget_s is not None:
        env["SUMMARIZE_SYNC_BUDGET_S"] = str(sync_budget_s)
    if capacity_retry_s is not None:
        env["SUMMARIZE_CAPACITY_RETRY_S"] = str(capacity_retry_s)
    if extra_templates is not None:
        env["EXTRA_TEMPLATES_JSON"] = json.dumps(extra_templates)
    moto, moto_url = _start_moto(env, feedback=feedback, jobs=jobs or tenants is not None)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    lambda_handler = _import_handler()  # puts lambdas/ on sys.path
    if moto_url is not None:
        _create_resources(moto_url, saved, feedback=feedback, jobs=jobs)
    resources, authorizer = _start_tenants(moto_url, tenants, saved) if tenants is not None else (None, None)
    runtime, services = _warm_handlers()
    worker, dead_letters = _start_pollers(services)
    # The streaming function: its web server on a loopback port of its own, its SageMaker
    # client built now (while the emulator's endpoint variable is set).
    from frontdoor.stream_server import StreamApp
    from frontdoor.stream_server import serve as serve_streams

    stream_server = serve_streams(host, 0, StreamApp(runtime).warm())
    server = FrontDoorHTTPServer((host, port), lambda_handler,
                                 auth="tenant_keys" if authorizer and not tenant_front_only else auth,
                                 stream_url=stream_server.url, authorizer=None if tenant_front_only else authorizer)
    threading.Thread(target=server.serve_forever, name="frontdoor-local", daemon=True).start()
    return LocalStack(emulator=emulator, server=server, moto=moto, worker=worker, dead_letters=dead_letters,
                      saved_env=saved, stream_server=stream_server, tenants=resources, authorizer=authorizer)


def _start_moto(env: dict[str, str], *, feedback: bool, jobs: bool) -> tuple[Any, str | None]:
    """moto, when the stack needs it and it is installed: (its process, its URL), its endpoint
    (and the feedback table's name) added to ``env``; (None, None) otherwise."""
    if not (feedback or jobs):
        return None, None
    started = start_moto()
    if started is None:
        print("moto is not installed: POST /v1/feedback will answer 503, /v1/summarize has no async jobs",
              file=sys.stderr)
        return None, None
    moto, moto_url = started
    env["AWS_ENDPOINT_URL_DYNAMODB"] = moto_url
    if feedback:
        env["FEEDBACK_TABLE_NAME"] = FEEDBACK_TABLE
    return moto, moto_url


def _create_resources(moto_url: str, saved: dict[str, str | None], *, feedback: bool, jobs: bool) -> None:
    """The feedback table and the jobs' resources in moto; the jobs' environment is set
    (its previous values added to ``saved``)."""
    if feedback:
        create_feedback_table(moto_url)
    if jobs:
        jobs_env = create_jobs_infra(moto_url)
        saved.update({key: os.environ.get(key) for key in jobs_env if key not in saved})
        os.environ.update(jobs_env)


def _start_tenants(moto_url: str | None, tenants: Any, saved: dict[str, str | None]) -> tuple[Any, LocalAuthorizer]:
    """The tenant keys' tables and usage plans in moto, their environment set (previous values
    added to ``saved``), the tenants package's client built now; (their ``Resources``, the
    authorizer running ``tenants.authorizer.handler`` with the configured cache TTL)."""
    if moto_url is None:
        raise RuntimeError("tenant keys need moto (pip install 'moto[server]'): the keys table lives there")
    from tenants import authorizer as tenant_authorizer
    from tenants import aws as tenant_aws
    from tools.tenant_admin import Resources

    infra = create_tenant_infra(moto_url, {name: t.model_dump() for name, t in tenants.tiers.items()})
    tenant_env = {"TENANT_KEYS_TABLE": infra["keys_table"], "TENANT_USAGE_TABLE": infra["usage_table"],
                  "TENANT_TIERS_JSON": json.dumps(tenants.authorizer_tiers())}
    saved.update({key: os.environ.get(key) for key in tenant_env if key not in saved})
    os.environ.update(tenant_env)
    tenant_aws.reset()
    tenant_aws.warm()
    tenant_authorizer.tiers.cache_clear()
    tenant_authorizer.tiers()
    resources = Resources(infra["keys_table"], infra["usage_plans"], infra["usage_table"], "us-east-1", moto_url)
    return resources, LocalAuthorizer(tenant_authorizer.handler, tenants.cache_ttl_seconds)


def _warm_handlers() -> tuple[Any, Any]:
    """Every handler's clients built now, while the endpoint variables are set: (the front
    door's runtime, the worker's services); the summarizer's cached worker and store dropped."""
    from frontdoor import config
    from summarizer import dead_letters as summarizer_dead_letters
    from summarizer import settings as summarizer_settings
    from summarizer import worker as summarizer_worker

    config.reset()
    runtime = config.runtime()
    runtime.invoker.client  # noqa: B018 - build now, while the endpoint env is set
    if runtime.feedback is not None:
        runtime.feedback.client  # noqa: B018
    runtime.summaries.warm()  # the API's summarization services (they wake sleeping models)
    summarizer_settings.default_services.cache_clear()
    services = summarizer_settings.default_services().warm()  # the worker's
    summarizer_worker._worker = None
    summarizer_dead_letters._store = None
    return runtime, services


def _start_pollers(services: Any) -> tuple[LocalWorker | None, LocalWorker | None]:
    """The jobs queue's worker and the DLQ's consumer, when the jobs have a store (moto)."""
    from summarizer import dead_letters as summarizer_dead_letters
    from summarizer import worker as summarizer_worker

    if services.store is None:
        return None, None
    summarizer_worker._default_worker()
    summarizer_dead_letters._default_store()
    sqs = services.store.sqs
    worker = LocalWorker(sqs, services.store.queue_url, summarizer_worker.lambda_handler).start()
    dead_letters = LocalWorker(sqs, sqs.get_queue_url(QueueName=JOBS_DLQ)["QueueUrl"],
                               summarizer_dead_letters.lambda_handler, timeout_s=DEAD_LETTERS_TIMEOUT_S,
                               batch_size=10, name="summarizer-dead-letters-local").start()
    return worker, dead_letters
