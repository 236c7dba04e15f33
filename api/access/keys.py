"""API keys: a scope (read < write < admin), an optional tenant, and limits.

A key is shown once, when it is made: ``lp_<id>_<secret>``. Stores keep only its SHA-256
(the secret is 32 random bytes, so a plain hash cannot be reversed by guessing) and look a
presented key up by that hash, so a revoked key stops at the next request in every process.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from loupe.search.errors import InvalidInput

TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
KEY_PREFIX = "lp_"


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return (Scope.READ, Scope.WRITE, Scope.ADMIN).index(self)

    def allows(self, needed: Scope) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key, without its secret. ``revoked_at`` is None while the key works; the limits
    are None where the server-wide defaults apply."""

    id: str
    name: str
    scope: Scope
    tenant: str | None
    created_at: float
    revoked_at: float | None = None
    requests_per_s: float | None = None
    upload_bytes_per_hour: int | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a stored key, the admin token, or anyone (an open, loopback-only server).
    ``tenant`` None acts on the whole library; otherwise everything is confined to the tenant."""

    name: str
    scope: Scope
    tenant: str | None
    key_id: str | None = None
    requests_per_s: float | None = None
    upload_bytes_per_hour: int | None = None

    @classmethod
    def of(cls, key: ApiKey) -> Principal:
        return cls(
            name=key.name,
            scope=key.scope,
            tenant=key.tenant,
            key_id=key.id,
            requests_per_s=key.requests_per_s,
            upload_bytes_per_hour=key.upload_bytes_per_hour,
        )


ANONYMOUS = Principal(name="anonymous", scope=Scope.WRITE, tenant=None)
"""Anyone, on an open server (no key exists): may read and write, not administer."""


def check_tenant(tenant: str | None) -> str | None:
    if tenant is not None and not TENANT_PATTERN.match(tenant):
        raise InvalidInput(
            "a tenant name is 1-63 characters of a-z, 0-9, '-' and '_', starting with a letter "
            "or digit"
        )
    return tenant


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key(
    *,
    scope: Scope,
    tenant: str | None,
    name: str | None,
    requests_per_s: float | None = None,
    upload_bytes_per_hour: int | None = None,
) -> tuple[ApiKey, str]:
    """A fresh key record and its secret (the only time the secret exists in full)."""
    check_tenant(tenant)
    if name is not None and not 1 <= len(name) <= 100:
        raise InvalidInput("a key name is 1-100 characters")
    if requests_per_s is not None and requests_per_s <= 0:
        raise InvalidInput("requests per second must be above 0")
    if upload_bytes_per_hour is not None and upload_bytes_per_hour <= 0:
        raise InvalidInput("upload bytes per hour must be above 0")
    key_id = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    record = ApiKey(
        id=key_id,
        name=name or f"{scope.value}-{key_id}",
        scope=scope,
        tenant=tenant,
        created_at=time.time(),
        requests_per_s=requests_per_s,
        upload_bytes_per_hour=upload_bytes_per_hour,
    )
    return record, secret


class KeyStore(Protocol):
    """Where keys live: a SQLite file in the data dir (embedded default) or Redis (with a
    broker). Every method is thread-safe; errors reaching the store raise Unavailable.
    ``remote``: whether a lookup crosses the network (then run it off the event loop)."""

    remote: bool

    def add(self, key: ApiKey, secret_hash: str) -> None: ...

    def lookup(self, secret_hash: str) -> ApiKey | None:
        """The working (not revoked) key with that hash, or None."""

    def get(self, key_id: str) -> ApiKey | None:
        """The working (not revoked) key with that id, or None."""

    def link_secret(self) -> bytes:
        """The secret that signs links to originals (``access.links``): 32 random bytes made by
        the first caller and the same for every process that uses this store."""

    def list(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key now (idempotent); NotFound if there is no such key."""

    def active(self) -> int:
        """How many keys work."""

    def close(self) -> None: ...
