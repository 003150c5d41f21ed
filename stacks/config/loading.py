"""Reading a config file: YAML -> `AppConfig`, the first error as a `ConfigError` that
names the field path and, for an unknown key, the allowed ones."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from stacks.config.app import AppConfig
from stacks.config.base import ConfigError

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO / "config" / "default.yaml"


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def parse_config(data: object, source: str | None = None) -> AppConfig:
    """Validate raw config data; the first error becomes a ConfigError."""
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "literal_error":
            msg = f"{msg} (got {err['input']!r})"
        elif err["type"] == "extra_forbidden":
            parent = err["loc"][:-1]
            allowed = _allowed_fields(parent)
            msg = f"unknown field; allowed: {', '.join(allowed)}"
        extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(_path(err["loc"]), msg + extra, source) from None


def _allowed_fields(loc: tuple) -> list[str]:
    model: type[BaseModel] = AppConfig
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        inner = getattr(annotation, "__args__", (annotation,))
        model = next(a for a in inner if isinstance(a, type) and issubclass(a, BaseModel))
    return list(model.model_fields)


def load_config(path: str | Path | None = None) -> AppConfig:
    """Read and validate a YAML config (default: config/default.yaml)."""
    path = Path(path) if path else DEFAULT_CONFIG
    if not path.is_file():
        raise ConfigError("config", f"file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError("config", f"not valid YAML: {exc}", str(path)) from None
    return parse_config(data, str(path))


def stack_name(config: AppConfig, suffix: str) -> str:
    return f"{config.project_name}-{suffix}"
