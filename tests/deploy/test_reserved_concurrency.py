"""Reserved concurrency stays within the budget the config declares.

Lambda lets an account reserve concurrency only up to its unreserved concurrency minus
100, and new accounts often have a concurrency quota of 10 or 50: a template that
reserves 27 executions cannot be deployed there at all (the function update fails). So
the deployment reserves nothing unless the operator says so in the config
(`api.reserved_concurrency`, None = reserve nothing), and then only for the API front
door, whose burst it protects; every other function (workers, schedulers, custom
resource handlers) shares the unreserved pool. `make preflight` checks the budget
against the account's quota.
"""

from __future__ import annotations

from tests.deploy.model import Res, assert_none


def _reserved(function: Res) -> int:
    return int(function.props.get("ReservedConcurrentExecutions", 0) or 0)


def test_total_reserved_concurrency_is_the_declared_budget(deployment):
    """The sum of ReservedConcurrentExecutions over every function of every stack equals
    `config.api.reserved_concurrency or 0` (0 when the API is disabled).

    Source: AWS Lambda Developer Guide, "Configuring reserved concurrency for a function"
    ("You can reserve up to the Unreserved account concurrency value that is shown, minus
    100 for functions that don't have reserved concurrency"),
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
    """
    dep = deployment
    api = dep.config.api
    budget = (getattr(api, "reserved_concurrency", None) or 0) if api.enabled else 0
    reserving = {str(f): _reserved(f) for f in dep.resources("AWS::Lambda::Function") if _reserved(f)}
    total = sum(reserving.values())
    assert total == budget, (
        f"{dep.name}: functions reserve {total} concurrent executions {reserving}, "
        f"but the config's budget (api.reserved_concurrency) is {budget}"
    )


def test_only_the_api_front_door_reserves_concurrency(deployment):
    """A function with ReservedConcurrentExecutions > 0 is a Lambda integration of an API
    Gateway method (the front door); no other function takes from the account's pool.

    Source: AWS Lambda Developer Guide, "Configuring reserved concurrency for a function",
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
    """
    dep = deployment
    methods = dep.resources("AWS::ApiGateway::Method")
    problems = []
    for function in dep.resources("AWS::Lambda::Function"):
        if not _reserved(function):
            continue
        integrated = any(
            dep.references(m.stack, (m.props.get("Integration") or {}).get("Uri"), function) for m in methods
        )
        if not integrated:
            problems.append(f"{dep.name}: {function} reserves {_reserved(function)} but is not the API front door")
    assert_none(problems, "only the API front door may reserve concurrency")
