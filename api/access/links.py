"""Short-lived links to one item's original, for what cannot send a key: a new browser tab, an
``<a href>``, a "save link as". The long-lived key never goes into a URL (URLs end up in
history, logs, ``Referer`` headers and screenshots); instead a holder of a key asks the server
for a link (``POST /v1/items/{id}/original-link``) and gets
``/v1/items/{id}/original?link=<key id>.<expires>.<signature>``, where

    signature = HMAC-SHA256(link secret, "original|<item id>|<tenant>|<key id>|<expires>"
                                         [+ "|" + SHA-256 of the admin token, for that token])

What a link can do, and no more:

* **one item**: the item id is signed; the link opens nothing else, and only its original;
* **the key's tenant**: the tenant is signed and the link acts as the key would (read scope);
* **short-lived**: ``LINK_TTL_S`` (5 minutes); an expiry further ahead than that is refused;
* **revocable at once**: each use looks the key up again by id, so a revoked key's links stop
  with it, and a link made with ``LOUPE_ADMIN_TOKEN`` stops when the token changes;
* **one secret for all replicas**: 32 random bytes made once and kept in the key store (SQLite
  in the data dir, or Redis shared by the replicas), so a restart or another replica honours
  the link. Holding the secret alone opens nothing without a working key id.

An expired, altered or revoked link is answered 401 like a bad key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass, replace

from loupe.api.access.keys import Principal, Scope

LINK_TTL_S = 300
ADMIN_LINK_ID = "admin"  # stands for LOUPE_ADMIN_TOKEN (stored key ids are 12 hex digits)


@dataclass(frozen=True, slots=True)
class Link:
    key_id: str
    expires: int
    signature: str

    def token(self) -> str:
        return f"{self.key_id}.{self.expires}.{self.signature}"

    @classmethod
    def parse(cls, token: str) -> Link | None:
        parts = token.split(".")
        if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 12:
            return None
        return cls(parts[0], int(parts[1]), parts[2])


def admin_binding(admin_token: bytes) -> str:
    """What a link made with the admin token is bound to (changes when the token does)."""
    return hashlib.sha256(admin_token).hexdigest()


def sign(
    secret: bytes, *, item_id: str, tenant: str | None, key_id: str, expires: int, binding: str
) -> str:
    message = f"original|{item_id}|{tenant or ''}|{key_id}|{expires}|{binding}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make(
    secret: bytes, principal: Principal, item_id: str, *, binding: str, now: float | None = None
) -> Link:
    """A link to ``item_id``'s original for ``principal`` (a stored key or the admin token)."""
    key_id = principal.key_id or ADMIN_LINK_ID
    expires = int(now if now is not None else time.time()) + LINK_TTL_S
    signature = sign(
        secret,
        item_id=item_id,
        tenant=principal.tenant,
        key_id=key_id,
        expires=expires,
        binding=binding,
    )
    return Link(key_id, expires, signature)


def fresh(link: Link, now: float | None = None) -> bool:
    """Not expired, and not set further ahead than a link can live."""
    at = now if now is not None else time.time()
    return at < link.expires <= at + LINK_TTL_S + 1


def valid(
    secret: bytes,
    link: Link,
    *,
    item_id: str,
    tenant: str | None,
    binding: str,
    now: float | None = None,
) -> bool:
    if not fresh(link, now):
        return False
    wanted = sign(
        secret,
        item_id=item_id,
        tenant=tenant,
        key_id=link.key_id,
        expires=link.expires,
        binding=binding,
    )
    return hmac.compare_digest(wanted.encode(), link.signature.encode())


def reader(principal: Principal) -> Principal:
    """What a link acts as: its key, with the read scope only."""
    return replace(principal, scope=Scope.READ)
