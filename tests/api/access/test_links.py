"""Links to one item's original (``access.links``) through ``Access`` over a real SQLite key
store: what a link opens, for how long, as whom, and when it stops."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from loupe.api.access import links
from loupe.api.access.keys import ANONYMOUS, Principal, Scope
from loupe.api.access.keys_sqlite import SqliteKeyStore
from loupe.api.access.links import LINK_TTL_S, Link
from loupe.api.access.service import Access
from loupe.api.errors import Unauthorized

ITEM = "0b0e8a3c-8a37-5c4f-9e0a-3d9b1c2f4a11"
OTHER = "7f1d2c3b-4a59-5e6f-8071-92a3b4c5d6e7"


@pytest.fixture
def access(tmp_path: Path) -> Iterator[Access]:
    made = Access(SqliteKeyStore(tmp_path / "keys.sqlite3"), admin_token=SecretStr("t" * 32))
    yield made
    made.close()


def principal_of(access: Access, scope: Scope, tenant: str | None) -> Principal:
    _, secret = access.create(scope=scope, tenant=tenant, name=f"{scope}-{tenant}")
    return access.authenticate(secret)


def token_for(access: Access, who: Principal, item: str = ITEM) -> str:
    made = access.link(who, item)
    assert made is not None
    return made.token()


def test_a_link_opens_its_item_as_its_key_with_read_scope_only(access: Access) -> None:
    writer = principal_of(access, Scope.WRITE, "alpha")
    token = token_for(access, writer)
    assert writer.key_id is not None and writer.key_id in token
    assert "lp_" not in token  # the key's secret never goes into a URL
    who = access.redeem(token, ITEM)
    assert (who.key_id, who.tenant, who.scope) == (writer.key_id, "alpha", Scope.READ)
    with pytest.raises(Unauthorized):
        access.redeem(token, OTHER)  # another item


def test_an_altered_expired_or_far_dated_link_is_refused(access: Access) -> None:
    link = access.link(principal_of(access, Scope.READ, "beta"), ITEM)
    assert link is not None
    assert 0 < link.expires - time.time() <= LINK_TTL_S + 1
    flipped = link.signature[:-1] + ("A" if link.signature[-1] != "A" else "B")
    later = Link(link.key_id, link.expires + 60, link.signature)
    for token in (
        Link(link.key_id, link.expires, flipped).token(),
        later.token(),  # a longer life is not signed
        f"{link.key_id}.{link.expires}",
        "nonsense",
        "",
    ):
        with pytest.raises(Unauthorized):
            access.redeem(token, ITEM)
    other = principal_of(access, Scope.READ, "gamma")
    assert other.key_id is not None
    with pytest.raises(Unauthorized):  # the same signature under another key
        access.redeem(Link(other.key_id, link.expires, link.signature).token(), ITEM)


def test_a_link_lives_ttl_seconds_and_no_longer() -> None:
    who = Principal(name="r", scope=Scope.READ, tenant="alpha", key_id="0123456789ab")
    secret, t0 = b"s" * 32, 1_000_000.0
    made = links.make(secret, who, ITEM, binding="", now=t0)
    wanted = {"item_id": ITEM, "tenant": "alpha", "binding": ""}
    assert links.valid(secret, made, **wanted, now=t0 + LINK_TTL_S - 1)
    assert not links.valid(secret, made, **wanted, now=t0 + LINK_TTL_S)  # expired
    assert not links.valid(secret, made, **wanted, now=t0 - 60)  # dated further ahead
    assert not links.valid(secret, made, **{**wanted, "tenant": "beta"}, now=t0)
    assert not links.valid(b"x" * 32, made, **wanted, now=t0)


def test_revoking_the_key_stops_its_links_at_once(access: Access) -> None:
    reader = principal_of(access, Scope.READ, "alpha")
    token = token_for(access, reader)
    access.redeem(token, ITEM)
    assert reader.key_id is not None
    access.revoke(reader.key_id)
    with pytest.raises(Unauthorized):
        access.redeem(token, ITEM)


def test_admin_token_links_follow_the_token(tmp_path: Path, access: Access) -> None:
    admin = access.authenticate("t" * 32)
    token = token_for(access, admin)
    assert "t" * 32 not in token
    assert access.redeem(token, ITEM).tenant is None
    principal_of(access, Scope.READ, None)  # keeps the server closed without the token
    rotated = Access(SqliteKeyStore(tmp_path / "keys.sqlite3"), admin_token=SecretStr("u" * 32))
    try:
        with pytest.raises(Unauthorized):
            rotated.redeem(token, ITEM)
    finally:
        rotated.close()


def test_one_secret_per_store_and_none_needed_on_an_open_server(tmp_path: Path) -> None:
    first = SqliteKeyStore(tmp_path / "keys.sqlite3")
    second = SqliteKeyStore(tmp_path / "keys.sqlite3")  # another replica, or after a restart
    try:
        assert first.link_secret() == second.link_secret()
        assert len(first.link_secret()) == 32
        open_access = Access(first, admin_token=None)
        assert open_access.link(ANONYMOUS, ITEM) is None
        assert open_access.redeem("anything", ITEM) is ANONYMOUS
    finally:
        first.close()
        second.close()
