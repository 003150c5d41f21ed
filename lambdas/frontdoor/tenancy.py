"""The calling tenant on a request (config ``api.auth: tenant_keys``): which models exist
for it, its token budget, and the usage it is charged.

Without a tenant authorizer (IAM or Cognito auth) every function here is a no-op, so
the routes call them unconditionally. The key itself never reaches the front door:
the authorizer (``tenants.authorizer``) hands over only the tenant's id, tier, models
and budget.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, TypeVar

from frontdoor.errors import NotMetered, QuotaExceeded
from inference.catalog import Catalog, ModelSpec
from inference.errors import BadRequest, NotFound
from inference.observability import logger
from tenants.budget import BudgetExhausted, Reservation, reserve, settle
from tenants.context import TenantContext
from tenants.usage import record

T = TypeVar("T")


def tenant_of(event: Mapping[str, Any] | None) -> TenantContext | None:
    return TenantContext.from_event(event or {})


def tenant_of_request_context(headers: Mapping[str, str]) -> TenantContext | None:
    """The tenant of a request on the streaming function: the Lambda Web Adapter forwards API
    Gateway's ``requestContext`` (the authorizer's context in it) as ``x-amzn-request-context``."""
    try:
        request_context = json.loads(headers.get("x-amzn-request-context") or "{}")
    except ValueError:
        request_context = {}
    return tenant_of({"requestContext": request_context if isinstance(request_context, dict) else {}})


def visible_models(catalog: Catalog, tenant: TenantContext | None) -> list[ModelSpec]:
    """The models that exist for the caller: its tier's, or all of them."""
    return [m for m in catalog.models if tenant is None or tenant.allows(m.name)]


def resolve_model(catalog: Catalog, tenant: TenantContext | None, name: str | None, kind: str) -> ModelSpec:
    """``catalog.resolve`` as the caller sees the catalog, for the OpenAI-compatible routes: a
    model outside its tier does not exist for it (404, the same answer as an unknown name);
    nor does a model of another kind for this route (404, as OpenAI answers it)."""
    visible = {m.name for m in visible_models(catalog, tenant)}
    if name is not None and name not in visible:
        raise NotFound(f"the model {name!r} does not exist; GET /v1/models lists the models you can use",
                       details=[{"field": "model", "type": "not_found"}])
    try:
        spec = catalog.resolve(name, kind)
    except BadRequest as exc:
        # OpenAI answers a model of the wrong kind for the route 404 ("This is not a chat model
        # and thus not supported in the v1/chat/completions endpoint").
        raise NotFound(exc.message, details=[{"field": "model", "type": "wrong_kind"}]) from None
    if spec.name not in visible:  # a default model outside the tier
        raise NotFound(f"no {kind} model is available to you; name one from GET /v1/models",
                       details=[{"field": "model", "type": "not_found"}])
    return spec


@dataclass
class Admission:
    """A call let in: the tokens set aside for it (if the tenant has a budget) until
    ``finish`` counts what it really used and records its usage."""

    tenant: TenantContext | None
    reservation: Reservation | None = None
    started: float = field(default_factory=time.perf_counter)
    user: str | None = None
    finished: bool = False

    def finish(self, model: str, usage: dict[str, Any] | None, status: int) -> None:
        """Settle the budget (nothing used when ``usage`` is None: the call failed before the
        model answered) and record the call's usage, once (later calls do nothing: a stream's
        end and its connection's close both finish it). Never raises: the answer is made."""
        if self.tenant is None or self.finished:
            return
        self.finished = True
        prompt = int((usage or {}).get("prompt_tokens") or 0)
        completion = int((usage or {}).get("completion_tokens") or 0)
        if self.reservation is not None:
            try:
                settle(self.reservation, prompt + completion)
            except Exception as exc:  # noqa: BLE001 - see the docstring
                logger.warning("token budget not settled", extra={"error": type(exc).__name__})
        if usage is None:
            return
        sources = {usage.get("prompt_tokens_source"), usage.get("completion_tokens_source")}
        record(self.tenant.tenant, model, prompt, completion, "estimate" if "estimate" in sources else "model",
               (time.perf_counter() - self.started) * 1000, status, tier=self.tenant.tier, end_user=self.user)


def admit(tenant: TenantContext | None, tokens: int, user: str | None = None) -> Admission:
    """Set ``tokens`` aside from the tenant's monthly budget, or refuse the call with 429
    ``insufficient_quota`` (Retry-After: the next month) when they do not fit."""
    if tenant is None or not tenant.token_budget:
        return Admission(tenant, user=user)
    try:
        reservation = reserve(tenant.tenant, tenant.token_budget, tokens)
    except BudgetExhausted as exc:
        raise QuotaExceeded(str(exc), retry_after=exc.retry_after) from None
    return Admission(tenant, reservation, user=user)


def native_usage(usage: dict[str, Any]) -> dict[str, Any]:
    """A native route's ``usage`` (``input_tokens_estimate``, ``generated_tokens``) as the
    tenant's usage record counts it."""
    generated = usage.get("generated_tokens")
    return {"prompt_tokens": usage.get("input_tokens") or usage.get("input_tokens_estimate") or 0,
            "completion_tokens": generated or 0,
            "prompt_tokens_source": "model" if usage.get("input_tokens") else "estimate",
            "completion_tokens_source": "model" if generated is not None else "estimate"}


def charged(event: Mapping[str, Any] | None, tokens: int, call: Callable[[], T],
            usage_of: Callable[[T], tuple[str, dict[str, Any]]]) -> T:
    """``call()`` charged to the caller's tenant: ``tokens`` set aside first (429
    ``insufficient_quota`` when they do not fit), then what it used (``usage_of(result)``:
    model name and native usage) counted and recorded; a failed call is given back."""
    admission = admit(tenant_of(event), tokens)
    try:
        result = call()
    except BaseException:
        admission.finish("", None, 0)
        raise
    model, usage = usage_of(result)
    admission.finish(model, native_usage(usage), 200)
    return result


class MeteredStream:
    """A native token stream (``services.token_stream.OpenStream``) charged to its tenant: the
    admission is finished with the stream's own usage once its last event is sent (or with
    nothing used, if it failed first)."""

    def __init__(self, stream: Any, admission: Admission, call: Any) -> None:
        self.stream, self.admission, self.call = stream, admission, call

    @property
    def outcome(self) -> Any:
        return self.stream.outcome

    def close(self) -> None:
        """Close the model's stream and settle (the server closes every stream it sent, even one
        whose first chunk never went out)."""
        self.stream.close()
        self.finish()

    def finish(self) -> None:
        done = self.stream.done
        if done is not None:
            self.admission.finish(self.call.spec.name, native_usage(done.usage), 200)
            return
        # Ended early (a model error, the deadline, the caller gone): what was streamed is charged,
        # estimated -- the prompt and a token per token event.
        self.admission.finish(self.call.spec.name, partial_usage(self.call.params.input_tokens_estimate,
                                                                 self.stream.outcome.tokens), 200)

    def chunks(self, deadline: float | None = None) -> Any:
        try:
            yield from self.stream.chunks(deadline=deadline)
        finally:
            self.finish()


def partial_usage(prompt_estimate: int, tokens_sent: int) -> dict[str, Any]:
    """What a stream that ended before its last event used, estimated: its prompt and the
    tokens it sent (the model may have made a few more, which nobody received)."""
    return {"prompt_tokens": prompt_estimate, "completion_tokens": tokens_sent,
            "prompt_tokens_source": "estimate", "completion_tokens_source": "estimate"}


def metered(tenant: TenantContext | None, call: Any, open_: Callable[[], Any]) -> Any:
    """``open_()`` (a native token stream of the prepared ``call``) charged to ``tenant``: the
    prompt and ``max_new_tokens`` set aside first, the stream's usage counted at its end."""
    if tenant is None:
        return open_()
    admission = admit(tenant, call.params.input_tokens_estimate + call.params.max_new_tokens)
    try:
        stream = open_()
    except BaseException:
        admission.finish(call.spec.name, None, 0)
        raise
    return MeteredStream(stream, admission, call)


def refuse_unmetered(event: Mapping[str, Any] | None, route: str) -> None:
    """Refuse ``route`` (403 ``not_metered``) to a tenant with a token budget: its tokens could
    not be counted against the budget (docs/tenants.md, "What is metered")."""
    tenant = tenant_of(event)
    if tenant is not None and tenant.token_budget:
        raise NotMetered(f"{route} is not metered against token budgets, and your tier has one; "
                         "use the generation routes, or a tier without a token budget")
