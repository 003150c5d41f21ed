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


def one_of_given(*fields: str) -> list[dict[str, Any]]:
    """One JSON Schema branch per field: it is given, and not null."""
    return [{"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in fields]


def exactly_one(*fields: str) -> dict[str, Any]:
    """``json_schema_extra`` for "exactly one of ``fields`` is given (and not null)":
    each branch requires one of them with a non-null value, ``oneOf`` allows one branch."""
    return {"oneOf": one_of_given(*fields)}


class ApiModel(BaseModel):
    # Build validators on first use, not at import: a cold start serves one route,
    # so it should not pay for the schemas of all the others.
    model_config = ConfigDict(defer_build=True)


class RequestModel(ApiModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
