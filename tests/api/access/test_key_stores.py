"""One test body for both key stores: SQLite (the data dir) and Redis (with a broker); and the
limiter's buckets on a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loupe.api.access.keys import KeyStore, Principal, Scope, hash_secret, new_key
from loupe.api.access.keys_redis import RedisKeyStore
from loupe.api.access.keys_sqlite import SqliteKeyStore
from loupe.api.access.limits import Limiter
from loupe.search.errors import InvalidInput, NotFound, Overloaded, PayloadTooLarge


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    if request.param == "sqlite":
        made: KeyStore = SqliteKeyStore(tmp_path / "keys.sqlite3")
    else:
        made = RedisKeyStore(request.getfixturevalue("redis_url"))
    yield made
    made.close()


def test_add_lookup_revoke(store: KeyStore) -> None:
    key, secret = new_key(
        scope=Scope.WRITE,
        tenant="alpha",
        name="alice",
        requests_per_s=2.5,
        upload_bytes_per_hour=1000,
    )
    other, other_secret = new_key(scope=Scope.READ, tenant=None, name=None)
    store.add(key, hash_secret(secret))
    store.add(other, hash_secret(other_secret))
    assert store.active() == 2
    assert store.lookup(hash_secret(secret)) == key
    assert store.lookup(hash_secret(other_secret)) == other
    assert store.lookup(hash_secret(secret + "x")) is None
    assert [k.id for k in store.list()] == [key.id, other.id]
    revoked = store.revoke(key.id)
    assert revoked.revoked_at is not None and revoked.id == key.id
    assert store.lookup(hash_secret(secret)) is None
    assert store.revoke(key.id).revoked_at == revoked.revoked_at  # idempotent
    assert store.active() == 1
    assert [k.revoked_at is None for k in store.list()] == [False, True]
    with pytest.raises(NotFound):
        store.revoke("nope")


def test_get_by_id_and_one_link_secret(store: KeyStore) -> None:
    key, secret = new_key(scope=Scope.READ, tenant="alpha", name="reader")
    store.add(key, hash_secret(secret))
    assert store.get(key.id) == key
    assert store.get("nope") is None
    made = store.link_secret()
    assert len(made) == 32 and store.link_secret() == made  # made once, then the same
    store.revoke(key.id)
    assert store.get(key.id) is None  # only working keys


@pytest.mark.parametrize("tenant", ["", "UPPER", "a b", "-lead", "x" * 64, "a/b"])
def test_tenant_names_are_checked(tenant: str) -> None:
    with pytest.raises(InvalidInput):
        new_key(scope=Scope.READ, tenant=tenant, name=None)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_limits_refill_over_time() -> None:
    clock = Clock()
    limiter = Limiter(requests_per_s=2, upload_bytes_per_hour=3600, clock=clock)
    key = Principal(name="k", scope=Scope.WRITE, tenant=None, key_id="k1")
    limiter.request(key)
    limiter.request(key)
    with pytest.raises(Overloaded) as caught:
        limiter.request(key)
    assert caught.value.retry_after == 1
    clock.now += 0.5
    limiter.request(key)
    limiter.upload(key, 3000)
    with pytest.raises(Overloaded) as refused:
        limiter.upload(key, 1000)
    assert refused.value.retry_after == 400  # 400 bytes short at 1 byte/s
    with pytest.raises(PayloadTooLarge):
        limiter.upload(key, 3601)
    own = Principal(name="o", scope=Scope.READ, tenant=None, key_id="k2", requests_per_s=100)
    for _ in range(100):
        limiter.request(own)  # its own limit wins over the default
    anonymous = Principal(name="anonymous", scope=Scope.WRITE, tenant=None)
    for _ in range(10):
        limiter.request(anonymous)  # an open server has nobody to limit
