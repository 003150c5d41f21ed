"""The model bases and the field types several areas share."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints


def _integral(value: Any) -> Any:
    """JSON has one number type: ``5.0`` is the integer 5 to JSON Schema, so it is to us."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


# An integer as JSON Schema means it (``5`` or ``5.0``, never ``"5"`` or ``true``). Put it
# after the constraints (``Annotated[int, Field(ge=1), Integral]``) so they stay JSON Schema's.
Integral = BeforeValidator(_integral)
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]


# Rules across fields are stated as a top-level `not` beside `properties`, never as a
# top-level `oneOf`/`anyOf`: client generators (openapi-python-client, ...) turn those into
# a union of their branches and drop the properties declared beside them. `not` (and the
# `anyOf` inside it) is also JSON Schema draft 4, which API Gateway validates with.


def none_given(*fields: str) -> dict[str, Any]:
    """Matches a body in which none of ``fields`` is given (each absent or null)."""
    return {"properties": {name: {"type": "null"} for name in fields}}


def all_given(*fields: str) -> dict[str, Any]:
    """Matches a body in which every one of ``fields`` is given (present, not null)."""
    return {"required": list(fields), "properties": {name: {"not": {"type": "null"}} for name in fields}}


def refuse(*cases: dict[str, Any]) -> dict[str, Any]:
    """``json_schema_extra``: a body matching any of ``cases`` is invalid."""
    return {"not": cases[0] if len(cases) == 1 else {"anyOf": list(cases)}}


def at_least_one(*fields: str) -> dict[str, Any]:
    """``json_schema_extra`` for "at least one of ``fields`` is given (and not null)"."""
    return refuse(none_given(*fields))


def exactly_one(first: str, second: str) -> dict[str, Any]:
    """``json_schema_extra`` for "exactly one of the two fields is given (and not null)"."""
    return refuse(none_given(first, second), all_given(first, second))


class ApiModel(BaseModel):
    # Build validators on first use, not at import: a cold start serves one route,
    # so it should not pay for the schemas of all the others.
    model_config = ConfigDict(defer_build=True)


class RequestModel(ApiModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
