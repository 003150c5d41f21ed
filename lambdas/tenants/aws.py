"""The one DynamoDB client and table names of this package, built on first use.

Cached for the process: a Lambda environment builds them once per execution environment,
and the local stack builds them while its endpoint variables are set (`warm`) and may
restore the environment afterwards.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

USAGE_TABLE_ENV = "TENANT_USAGE_TABLE"
KEYS_TABLE_ENV = "TENANT_KEYS_TABLE"


@dataclass(frozen=True)
class Tables:
    client: Any
    usage: str | None
    keys: str | None


@functools.lru_cache(maxsize=1)
def tables() -> Tables:
    """The DynamoDB client (short timeouts: the callers answer an HTTP request) and the
    table names from the environment (None where the function has no such table)."""
    import boto3
    from botocore.config import Config

    client = boto3.client("dynamodb", config=Config(
        connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3},
    ))
    return Tables(client, os.environ.get(USAGE_TABLE_ENV) or None, os.environ.get(KEYS_TABLE_ENV) or None)


def warm() -> Tables:
    """Build the client now (e.g. while a local endpoint variable is set)."""
    return tables()


def reset() -> None:
    """Forget the client and table names (tests, a restarted local stack)."""
    tables.cache_clear()
