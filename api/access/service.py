"""The front door of access control: who a presented key is, and key management.

With no working key and no ``LOUPE_ADMIN_TOKEN`` the server is *open*: every request acts as
``anonymous`` with the write scope (as before keys existed) and admin routes stay closed. Once
any key or the admin token exists, every request needs one.
"""

from __future__ import annotations

import hmac
import ipaddress

from pydantic import SecretStr

from loupe.api.access import links
from loupe.api.access.keys import (
    ANONYMOUS,
    ApiKey,
    KeyStore,
    Principal,
    Scope,
    hash_secret,
    new_key,
)
from loupe.api.errors import Unauthorized
from loupe.api.settings import Settings

ADMIN_TOKEN_NAME = "admin-token"


def open_key_store(settings: Settings) -> KeyStore:
    """Redis when a broker is configured (shared by replicas), else SQLite in the data dir."""
    if settings.broker_url:
        from loupe.api.access.keys_redis import RedisKeyStore

        return RedisKeyStore(settings.broker_url)
    from loupe.api.access.keys_sqlite import SqliteKeyStore

    return SqliteKeyStore(settings.data_dir / "keys.sqlite3")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refuse_open_bind(settings: Settings, host: str, store: KeyStore) -> str | None:
    """The sentence to stop on when ``host`` is not loopback and nothing would be closed."""
    if is_loopback(host) or settings.allow_open or settings.admin_token is not None:
        return None
    if store.active() > 0:
        return None
    return (
        f"refusing to serve on {host} with no API keys: anyone who can reach it could read, "
        "upload and delete; create one (`loupe keys create --scope admin`), set "
        "LOUPE_ADMIN_TOKEN, bind 127.0.0.1, or set LOUPE_ALLOW_OPEN=true"
    )


class Access:
    def __init__(self, store: KeyStore, *, admin_token: SecretStr | None) -> None:
        self.store = store
        self._admin_token = admin_token.get_secret_value().encode() if admin_token else None
        self._link_secret: bytes | None = None

    @property
    def remote(self) -> bool:
        return self.store.remote

    def is_open(self) -> bool:
        return self._admin_token is None and self.store.active() == 0

    def authenticate(self, presented: str | None) -> Principal:
        """The principal of a presented key (None: no key given). Unauthorized when the server
        is closed and the key is missing, unknown or revoked."""
        if presented is None:
            if self.is_open():
                return ANONYMOUS
            raise Unauthorized(
                "this server needs an API key: send 'Authorization: Bearer <key>' or 'X-API-Key'"
            )
        if self._admin_token is not None and hmac.compare_digest(
            presented.encode(), self._admin_token
        ):
            return Principal(name=ADMIN_TOKEN_NAME, scope=Scope.ADMIN, tenant=None)
        key = self.store.lookup(hash_secret(presented))
        if key is not None:
            return Principal.of(key)
        if self.is_open():
            return ANONYMOUS
        raise Unauthorized("the API key is unknown or revoked")

    def _secret(self) -> bytes:
        if self._link_secret is None:
            self._link_secret = self.store.link_secret()
        return self._link_secret

    def link(self, principal: Principal, item_id: str) -> links.Link | None:
        """A short-lived link to ``item_id``'s original for ``principal`` (``access.links``);
        None for anyone on an open server, who needs no link."""
        if principal is ANONYMOUS:
            return None
        admin = principal.key_id is None
        if admin and self._admin_token is None:
            return None
        binding = links.admin_binding(self._admin_token) if admin and self._admin_token else ""
        return links.make(self._secret(), principal, item_id, binding=binding)

    def redeem(self, token: str, item_id: str) -> Principal:
        """Who a link to ``item_id``'s original acts as (read scope). Unauthorized when it is
        malformed, altered, for another item, expired, or its key is revoked."""
        if self.is_open():  # nothing is closed: the original needs no link
            return ANONYMOUS
        refused = Unauthorized("the link is invalid or has expired: open the item again")
        link = links.Link.parse(token)
        if link is None or not links.fresh(link):
            raise refused
        if link.key_id == links.ADMIN_LINK_ID:
            if self._admin_token is None:
                raise refused
            principal = Principal(name=ADMIN_TOKEN_NAME, scope=Scope.ADMIN, tenant=None)
            binding = links.admin_binding(self._admin_token)
        else:
            key = self.store.get(link.key_id)
            if key is None:
                raise refused
            principal, binding = Principal.of(key), ""
        if not links.valid(
            self._secret(), link, item_id=item_id, tenant=principal.tenant, binding=binding
        ):
            raise refused
        return links.reader(principal)

    def create(
        self,
        *,
        scope: Scope,
        tenant: str | None = None,
        name: str | None = None,
        requests_per_s: float | None = None,
        upload_bytes_per_hour: int | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key and its secret; only the secret's hash is stored."""
        key, secret = new_key(
            scope=scope,
            tenant=tenant,
            name=name,
            requests_per_s=requests_per_s,
            upload_bytes_per_hour=upload_bytes_per_hour,
        )
        self.store.add(key, hash_secret(secret))
        return key, secret

    def list(self) -> list[ApiKey]:
        return self.store.list()

    def revoke(self, key_id: str) -> ApiKey:
        return self.store.revoke(key_id)

    def close(self) -> None:
        self.store.close()
