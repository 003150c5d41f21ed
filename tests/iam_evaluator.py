"""A small IAM identity-policy evaluator for tests: does a set of policy statements allow
one request (action, resource, request context)?

It implements what the IAM User Guide's "Policy evaluation logic" and "IAM JSON policy
elements: Condition operators" say for the parts our policies use, and refuses (raises)
anything else rather than guess:

- Effect Allow/Deny; an explicit Deny wins over any Allow; no Allow is an implicit deny.
- Action/NotAction with `*`/`?` wildcards, case-insensitive; Resource/NotResource with
  wildcards, case-sensitive; policy variables `${key}` in Resource and condition values
  ("IAM policy elements: Variables and tags"): a variable the request context does not
  hold makes that value match nothing.
- Condition: every operator and every key of a block must hold (AND); a key's policy values
  are alternatives (OR). Operators: StringEquals, StringNotEquals, StringLike, ArnEquals,
  ArnLike, Bool, Null, each with the `IfExists` suffix (a missing key then holds), and the
  set prefixes `ForAllValues:` (true when the context key is missing or empty, else every
  request value matches a policy value) and `ForAnyValue:` (false when missing, else some
  value matches) for multivalued keys ("Set operators for multivalued context keys").
  A missing key fails any other operator. Condition keys are case-insensitive.

What it does not model: service control and resource control policies, permission
boundaries, session policies, resource-based policies (bucket, key and trust policies),
the implicit extra authorizations of one API call (a test evaluates each resource an
action authorizes, as the Service Authorization Reference lists them), and which keys a
service really puts in the request context (each test states the context it sends).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Context = dict[str, Any]  # key -> str | bool | list[str]

_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_SUPPORTED = {"stringequals", "stringnotequals", "stringlike", "arnequals", "arnlike", "bool", "null"}


class Unresolved(Exception):
    """A policy variable the request context does not hold."""


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Context = field(default_factory=dict)

    def value(self, key: str) -> Any:
        for k, v in self.context.items():
            if k.lower() == key.lower():
                return v
        return None


def _listify(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, text: str, *, case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, 0 if case else re.IGNORECASE | re.DOTALL) is not None


def _substitute(value: str, request: Request) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1).strip()
        if name in ("*", "?", "$"):
            return name
        found = request.value(name)
        if found is None or isinstance(found, list):
            raise Unresolved(name)
        return str(found).lower() if isinstance(found, bool) else str(found)

    return _VARIABLE.sub(replace, value)


def _matches(base: str, policy_value: str, request_value: Any, request: Request) -> bool:
    try:
        expected = _substitute(str(policy_value), request)
    except Unresolved:
        return False
    actual = str(request_value).lower() if isinstance(request_value, bool) else str(request_value)
    if base in ("stringequals", "arnequals"):
        return actual == expected
    if base == "stringnotequals":
        return actual != expected
    if base in ("stringlike", "arnlike"):
        return _glob(expected, actual, case=True)
    if base == "bool":
        return actual.lower() == expected.lower()
    raise ValueError(f"operator {base!r} is not modelled")


def _condition_holds(operator: str, key: str, values: list, request: Request) -> bool:
    prefix, _, name = operator.rpartition(":")
    base = name.lower()
    if_exists = base.endswith("ifexists")
    base = base.removesuffix("ifexists")
    if base not in _SUPPORTED or prefix.lower() not in ("", "forallvalues", "foranyvalue"):
        raise ValueError(f"condition operator {operator!r} is not modelled by tests/iam_evaluator.py")
    found = request.value(key)
    present = found is not None and found != []
    if base == "null":
        return all(str(v).lower() == ("false" if present else "true") for v in values)
    if prefix.lower() == "forallvalues":
        return not present or all(any(_matches(base, v, r, request) for v in values) for r in _listify(found))
    if prefix.lower() == "foranyvalue":
        return present and any(any(_matches(base, v, r, request) for v in values) for r in _listify(found))
    if not present:  # a negated operator holds for a missing key; IfExists makes any hold
        return if_exists or base == "stringnotequals"
    if isinstance(found, list):
        raise ValueError(f"{key} is multivalued in the request: use ForAllValues/ForAnyValue with {operator}")
    matched = [_matches(base, v, found, request) for v in values]
    return all(matched) if base == "stringnotequals" else any(matched)


def _resource_matches(patterns: list[str], request: Request) -> bool:
    for pattern in patterns:
        try:
            if _glob(_substitute(pattern, request), request.resource, case=True):
                return True
        except Unresolved:
            continue
    return False


def statement_applies(statement: dict, request: Request) -> bool:
    """Whether the statement's action, resource and condition all match the request."""
    if "Action" in statement:
        if not any(_glob(a, request.action, case=False) for a in _listify(statement["Action"])):
            return False
    elif any(_glob(a, request.action, case=False) for a in _listify(statement.get("NotAction"))):
        return False
    if "Resource" in statement:
        if not _resource_matches(_listify(statement["Resource"]), request):
            return False
    elif _resource_matches(_listify(statement.get("NotResource")), request):
        return False
    return all(
        _condition_holds(operator, key, _listify(values), request)
        for operator, block in (statement.get("Condition") or {}).items()
        for key, values in block.items()
    )


def decide(statements: list[dict], request: Request) -> str:
    """"Allow", "ExplicitDeny" or "ImplicitDeny" for `request` under `statements`."""
    applying = [s for s in statements if statement_applies(s, request)]
    if any(s.get("Effect") == "Deny" for s in applying):
        return "ExplicitDeny"
    return "Allow" if any(s.get("Effect") == "Allow" for s in applying) else "ImplicitDeny"


def allowed(statements: list[dict], request: Request) -> bool:
    return decide(statements, request) == "Allow"
