"""What every config model shares: strictness, name patterns, ordered bounds, unique names."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

NAME_RE = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
REGION_RE = r"^[a-z]{2}(-[a-z]+)+-\d$"


class ConfigError(ValueError):
    """A config that cannot be deployed; the message is meant for the operator."""

    def __init__(self, path: str, message: str, source: str | None = None):
        self.path = path
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{path}: {message}")


class StrictModel(BaseModel):
    # strict: YAML `true` is not a count and "3" is not a number.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def require_ordered(model: BaseModel, low: str, high: str) -> None:
    """Refuse `model.<low>` above `model.<high>`, naming both fields and values."""
    low_value, high_value = getattr(model, low), getattr(model, high)
    if low_value > high_value:
        raise ValueError(f"{low} ({low_value}) must be <= {high} ({high_value})")


def require_unique(names: list[str], what: str) -> None:
    """Refuse repeated `names`, listing each repeated one once."""
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{what} must be unique, repeated: {', '.join(repeated)}")
