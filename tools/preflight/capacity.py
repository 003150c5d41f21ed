"""Capacity checks: SageMaker instance quotas (and whether the region offers the type), and
Lambda concurrency."""

from __future__ import annotations

from collections import Counter

from stacks.models.jumpstart import ResolvedEndpoint
from tools.preflight.results import Result

LAMBDA_HEADROOM = 100  # unreserved concurrency Lambda never lets you reserve


def instances_needed(endpoints: list[ResolvedEndpoint]) -> dict[str, int]:
    """Most instances each type can reach: autoscaling max, else the fixed count."""
    need: Counter[str] = Counter()
    for ep in endpoints:
        need[ep.instance_type] += ep.max_capacity
    return dict(need)


def _quota_values(sq, operation: str, names: set[str]) -> dict[str, float]:
    found = {}
    for page in sq.get_paginator(operation).paginate(ServiceCode="sagemaker"):
        found.update({q["QuotaName"]: q["Value"] for q in page["Quotas"] if q["QuotaName"] in names})
    return found

def check_endpoint_quotas(sq, endpoints: list[ResolvedEndpoint], region: str) -> list[Result]:
    """Quota "<type> for endpoint usage" per instance type; no quota row = not offered here.

    Sources: Service Quotas API ListServiceQuotas (a quota without an applied value is not
    listed, hence ListAWSDefaultServiceQuotas next; SageMaker has no "offered in region"
    API); SageMaker guide "Blue/Green Deployments" (updates provision the new fleet first).
    """
    need = instances_needed(endpoints)
    names = {f"{t} for endpoint usage": t for t in need}
    quotas = _quota_values(sq, "list_service_quotas", set(names))
    if missing := set(names) - set(quotas):
        quotas |= _quota_values(sq, "list_aws_default_service_quotas", missing)
    rows = []
    for name, itype in sorted(names.items()):
        if name not in quotas:
            rows.append(Result("instance type offered", itype, "FAIL", f"not offered in {region} (no quota {name!r})",
                               "pick an instance type the model supports that this region offers, or another region"))
            continue
        rows.append(Result("instance type offered", itype, "PASS", f"offered in {region}"))
        have, want = int(quotas[name]), need[itype]
        status = "FAIL" if have < want else "WARN" if have < 2 * want else "PASS"
        detail = f"quota {have}, config needs up to {want}" + (
            f"; an endpoint update (blue/green) needs up to {2 * want}" if status == "WARN" else "")
        fix = f"Service Quotas console -> Amazon SageMaker -> {name!r} -> request >= {2 * want}"
        rows.append(Result("endpoint instance quota", itype, status, detail, "" if status == "PASS" else fix))
    return rows


def check_lambda_concurrency(lam, reserved: int, already_deployed: bool = False) -> list[Result]:
    """Account concurrency vs. what the deployment reserves. Source: Lambda developer guide
    "Configuring reserved concurrency": you may reserve up to unreserved concurrency minus 100."""
    limit = lam.get_account_settings()["AccountLimit"]
    total, unreserved = limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]
    room = unreserved - LAMBDA_HEADROOM
    detail = f"account limit {total}, unreserved {unreserved}, reservable {max(room, 0)}, deployment reserves {reserved}"
    if reserved == 0 or reserved <= room:
        return [Result("lambda concurrency", "account", "PASS", detail)]
    fix = (f"request Lambda 'Concurrent executions' >= {total + reserved - room} in Service Quotas, "
           "or set api.reserved_concurrency to null")
    # A live deployment's own reservations are already subtracted from unreserved.
    status, note = ("WARN", " (counts the live stacks' own)") if already_deployed else ("FAIL", "")
    return [Result("lambda concurrency", "account", status, detail + note, fix)]
