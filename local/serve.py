"""Run the front door locally: ``python -m local.serve`` (what ``make serve`` runs).

Starts, all on loopback:
- the SageMaker runtime emulator (``local.emulator``) with one endpoint
  per configured model, or, for models on a shared endpoint, one endpoint with an
  inference component per model (``--ic-copies``, ``--scale-out-after-s``; copies
  are set at run time with ``POST /_emulator/components``),
- a moto server (its own process, when moto is installed) with the feedback
  table and the async summarization jobs' DynamoDB table, SQS queue (with a
  dead-letter queue after the same ``MAX_RECEIVES`` receives as deployed) and S3 bucket,
- an HTTP server on 127.0.0.1:8080 standing in for the REST API: it routes as
  the deployed API does (the resources and methods of the contract,
  ``lambdas/frontdoor/openapi.json`` via ``stacks.contract.openapi``; anything else is
  API Gateway's own JSON 403 "Missing Authentication Token", whatever the
  method), turns each routed request into an API Gateway REST proxy event (with
  ``requestContext.requestId``) and calls the very same
  ``frontdoor.handler.lambda_handler`` the Lambda runs,
- a worker thread standing in for the worker Lambda's SQS event source: it
  long-polls the jobs queue and calls ``summarizer.worker.lambda_handler`` with
  SQS events (batch size 1, real ``ApproximateReceiveCount``), deleting each
  message unless it is reported as a batch item failure,
- a second such thread for the dead-letter consumer's event source: it drains
  the DLQ through ``summarizer.dead_letters.lambda_handler`` (batches of up to
  10), so a job whose message was dead-lettered ends FAILED as deployed.

With a config in ``api.auth: tenant_keys`` mode, the gateway runs the real tenant
authorizer on every request (``local.authorizer``) against a keys table in moto, a demo
tenant is created with the same code as ``tools/tenants.py`` and one line
``local tenant key: <key>`` is printed; ``python -m tools.tenants --local ...`` manages
more tenants (the moto endpoint and table names are in ``.cache/local-tenants.json``).

Handler calls are serialized, like one warm Lambda execution environment:
Powertools' resolver keeps the current event on the class, so two threads must
not be inside it at once.

This module is the command line; the parts are ``local.stack`` (``start_stack``),
``local.deployment`` (a config's models), ``local.gateway`` and ``local.gateway_server``
(API Gateway), ``local.iam`` (SigV4), ``local.moto_backend``, ``local.workers`` (the SQS
event sources) and ``local.lambda_runtime`` (environment and context).
"""

from __future__ import annotations

import argparse
import json
import signal
import time
from pathlib import Path

from local.deployment import DEFAULT_CONFIG, feedback_env_from_config, models_from_config
from local.stack import DEFAULT_SCALE_OUT_AFTER_S, LocalStack, start_stack

DEMO_TENANT = "demo"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the front door locally against the SageMaker emulator.")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="deployment config (default: %(default)s)")
    parser.add_argument("--models-json", help="a MODELS_JSON file to use instead of --config")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--first-token-ms", type=float, default=50.0, help="emulated time to first token")
    parser.add_argument("--per-token-ms", type=float, default=0.0, help="emulated time per generated token")
    parser.add_argument("--sync-budget-s", type=float, default=None,
                        help="estimated model seconds /v1/summarize answers inline before it makes a job (default 25)")
    parser.add_argument("--no-jobs", action="store_true", help="no async summarization jobs (no moto queue/bucket)")
    parser.add_argument("--ic-copies", type=int, default=1,
                        help="initial copies of each model on a shared endpoint (0: scaled to zero; "
                             "POST /_emulator/components changes them at run time)")
    parser.add_argument("--scale-out-after-s", type=float, default=DEFAULT_SCALE_OUT_AFTER_S,
                        help="an inference component at 0 copies has 1 this long after a call met none "
                             "(default %(default)s; AWS: ~5 minutes)")
    parser.add_argument("--capacity-retry-s", type=int, default=5,
                        help="a job waiting for a model to scale out runs again this often "
                             "(SUMMARIZE_CAPACITY_RETRY_S; default %(default)s, deployed: 60)")
    parser.add_argument("--auth", choices=("none", "iam"), default="none",
                        help="'iam': require SigV4 (service execute-api) from the local user, access key 'local', "
                             "secret 'local', as the deployed API requires it (default: none)")
    args = parser.parse_args(argv)
    tenants = None
    if args.models_json:
        models = json.loads(Path(args.models_json).read_text())
        extra_env: dict[str, str] = {}
    else:
        models = models_from_config(args.config)
        extra_env = feedback_env_from_config(args.config)
        tenants = tenants_from_config(args.config)
    stack = start_stack(models, port=args.port, first_token_ms=args.first_token_ms, per_token_ms=args.per_token_ms,
                        jobs=not args.no_jobs, sync_budget_s=args.sync_budget_s, auth=args.auth, extra_env=extra_env,
                        ic_copies=args.ic_copies, scale_out_after_s=args.scale_out_after_s,
                        capacity_retry_s=args.capacity_retry_s, tenants=tenants)
    print(f"front door on {stack.url}  (emulator {stack.emulator.url}); models: "
          f"{', '.join(m['name'] for m in models)}", flush=True)
    if tenants is not None:
        print(f"local tenant key: {demo_tenant(stack, tenants)}", flush=True)
    # `kill` as well as Ctrl-C stops the stack, moto's process included.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stack.stop()


def tenants_from_config(path: str | Path) -> object | None:
    """`api.tenants` of a config in tenant_keys mode, else None."""
    from stacks.config import load_config

    api = load_config(str(path)).api
    return api.tenants if api.auth == "tenant_keys" else None


def demo_tenant(stack: LocalStack, tenants: object, state_file: Path | None = None) -> str:
    """A tenant `demo` in the tier that allows every model (else the first tier), made with
    `tools.tenant_admin.TenantAdmin` as `tools/tenants.py create` makes one; the local stack's
    resources are written to `state_file` for `tools/tenants.py --local`. Returns its key."""
    from tools.tenant_admin import LOCAL_STATE, TenantAdmin

    state_file = state_file or LOCAL_STATE
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(stack.tenants.to_json())
    tiers = tenants.tiers
    tier = next((name for name, t in tiers.items() if t.models == ["*"]), next(iter(tiers)))
    key, _ = TenantAdmin(stack.tenants).create(DEMO_TENANT, tier)
    return key


if __name__ == "__main__":
    main()
