"""Monthly token budgets: one atomic, conditional counter per tenant and UTC month in the
usage table (env `TENANT_USAGE_TABLE`).

`reserve` adds the tokens a call may use before the model runs, only if the month's total
stays within the budget (one UpdateItem with ADD and a ConditionExpression: DynamoDB
evaluates the condition and applies the update atomically, so concurrent calls cannot
overspend together); `settle` corrects it by what the call really used. Usage-plan quotas
count requests, best effort; tokens, exactly, only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from tenants.aws import tables

# Counters outlive their month for the usage report; DynamoDB TTL deletes them after ~13 months.
KEEP_DAYS = 400


class BudgetExhausted(Exception):
    """The tenant's monthly token budget cannot cover the call (HTTP 429 insufficient_quota).

    Attributes: tenant, used (tokens counted this month), budget, retry_after (seconds until
    the next UTC month, for Retry-After). The message holds numbers only."""

    def __init__(self, tenant: str, used: int, budget: int, retry_after: int) -> None:
        self.tenant, self.used, self.budget, self.retry_after = tenant, used, budget, retry_after
        super().__init__(f"monthly token budget exhausted: {used} of {budget} tokens used this month")


@dataclass(frozen=True)
class Reservation:
    """Tokens set aside for one call (`budget` None: no budget, nothing was counted)."""

    tenant: str
    month: str
    tokens: int
    budget: int | None


def month_key(now: datetime | None = None) -> str:
    """The UTC month a counter belongs to, YYYY-MM."""
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m")


def seconds_to_next_month(now: datetime | None = None) -> int:
    """Seconds until 00:00 UTC on the first of next month (at least 1)."""
    now = now or datetime.now(timezone.utc)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    return max(1, int((start - now).total_seconds() + 0.999))


def counter_key(tenant: str, month: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"tenant#{tenant}"}, "sk": {"S": f"budget#{month}"}}


def reserve(tenant: str, budget: int | None, tokens: int, *, now: datetime | None = None) -> Reservation:
    """Count `tokens` against `tenant`'s budget for this month, or raise `BudgetExhausted`
    when `used + tokens` would exceed `budget`. A budget of None or 0 means none: no call."""
    tokens = max(0, int(tokens))
    now = now or datetime.now(timezone.utc)
    month = month_key(now)
    if not budget:
        return Reservation(tenant, month, tokens, None)
    limit = budget - tokens
    t = tables()
    # A missing counter is 0 used: it fits when the call alone fits the budget.
    condition = "attribute_not_exists(used) OR used <= :limit" if limit >= 0 else "used <= :limit"
    try:
        t.client.update_item(
            TableName=t.usage, Key=counter_key(tenant, month),
            UpdateExpression="ADD used :tokens SET budget = :budget, expires_at = if_not_exists(expires_at, :exp)",
            ConditionExpression=condition,
            ExpressionAttributeValues={
                ":tokens": {"N": str(tokens)}, ":limit": {"N": str(limit)}, ":budget": {"N": str(budget)},
                ":exp": {"N": str(int(now.timestamp()) + KEEP_DAYS * 86400)},
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except t.client.exceptions.ConditionalCheckFailedException as err:
        item = getattr(err, "response", {}).get("Item") or {}
        used = int(item.get("used", {}).get("N", "0"))
        raise BudgetExhausted(tenant, used, budget, seconds_to_next_month(now)) from None
    return Reservation(tenant, month, tokens, budget)


def settle(reservation: Reservation, actual_tokens: int) -> None:
    """Correct the month's counter by `actual_tokens - reservation.tokens`, unconditionally
    (the call has happened: what it used is counted even past the budget)."""
    if reservation.budget is None:
        return
    delta = max(0, int(actual_tokens)) - reservation.tokens
    if delta == 0:
        return
    t = tables()
    t.client.update_item(
        TableName=t.usage, Key=counter_key(reservation.tenant, reservation.month),
        UpdateExpression="ADD used :delta", ExpressionAttributeValues={":delta": {"N": str(delta)}},
    )
