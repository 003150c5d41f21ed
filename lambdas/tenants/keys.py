"""Tenant keys and their records in the keys table.

A key is `sk-` + 43 characters of `secrets.token_urlsafe(32)` (256 random bits). The table
holds only its SHA-256 (the partition key): a leaked table or backup gives no usable key,
and a lookup is one GetItem. SHA-256 without a salt is enough for a 256-bit random secret:
salting and slow hashes defend guessable passwords, and nobody can enumerate 2^256 keys.

Each record also holds the value of the API Gateway API key the tenant's usage plan knows
(`api_key_value`), which the authorizer returns as `usageIdentifierKey`. With
`apiKeySource: AUTHORIZER` that value is no credential (API Gateway ignores `x-api-key`
headers then), so it is kept here, encrypted at rest with the table's KMS key, instead of
costing the authorizer a GetApiKey call (a control-plane API with a low rate limit) per
uncached request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import asdict, dataclass
from typing import Any

PREFIX = "sk-"
# token_urlsafe(32) is 43 characters; longer keys are accepted (other generators, future sizes).
KEY_RE = re.compile(r"^sk-[A-Za-z0-9_-]{43,128}$")
DISPLAY_CHARS = 7  # "sk-" and 4 characters: enough to tell keys apart in a list, useless to a thief
ACTIVE, REVOKED = "active", "revoked"


def new_key() -> str:
    """A new tenant key (shown once, at creation, and never stored)."""
    return PREFIX + secrets.token_urlsafe(32)


def new_key_id() -> str:
    """A public id for a key record (what `list`, `revoke` and logs may show)."""
    return "key-" + secrets.token_hex(8)


def hash_key(key: str) -> str:
    """The stored form of a key: SHA-256, hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def well_formed(key: str) -> bool:
    return bool(KEY_RE.match(key))


def display_prefix(key: str) -> str:
    return key[:DISPLAY_CHARS] + "…"


@dataclass(frozen=True)
class KeyRecord:
    """One key of one tenant. `key_hash` never leaves this module's callers' memory: repr
    hides it, and `public()` (what tools print) leaves it and the API key value out."""

    key_hash: str
    key_id: str
    tenant: str
    tier: str
    status: str
    created: str
    api_key_id: str
    api_key_value: str
    key_prefix: str
    revoked: str | None = None

    def __repr__(self) -> str:
        return f"KeyRecord(key_id={self.key_id!r}, tenant={self.tenant!r}, tier={self.tier!r}, status={self.status!r})"

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        del data["key_hash"], data["api_key_value"]
        return data

    def to_item(self) -> dict[str, dict[str, str]]:
        return {name: {"S": value} for name, value in asdict(self).items() if value is not None}

    @classmethod
    def from_item(cls, item: dict[str, dict[str, str]]) -> "KeyRecord":
        names = cls.__dataclass_fields__
        return cls(**{name: value["S"] for name, value in item.items() if name in names})


def lookup(client: Any, table: str, key: str) -> KeyRecord | None:
    """The record of `key`, or None (malformed or unknown). Compares hashes in constant time;
    reads consistently, so a key works as soon as `create` returns and a revocation is seen by
    the next uncached request."""
    if not well_formed(key):
        return None
    wanted = hash_key(key)
    item = client.get_item(TableName=table, Key={"key_hash": {"S": wanted}}, ConsistentRead=True).get("Item")
    if not item:
        return None
    record = KeyRecord.from_item(item)
    return record if hmac.compare_digest(record.key_hash, wanted) else None
