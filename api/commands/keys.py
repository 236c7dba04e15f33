"""``loupe keys create|list|revoke``: API keys in this server's store (the data dir's SQLite
file, or Redis with a broker), managed without a running server."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from rich.console import Console
from rich.table import Table

from loupe.api.access import audit
from loupe.api.access.keys import Principal, Scope
from loupe.api.access.service import Access, open_key_store
from loupe.api.settings import Settings
from loupe.search.errors import LoupeError

console = Console(soft_wrap=True)  # messages stay one line in logs and pipes; tables fit the width


@contextmanager
def _access() -> Iterator[tuple[Access, Principal]]:
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    access = Access(open_key_store(settings), admin_token=settings.admin_token)
    operator = Principal(name=f"cli:{getpass.getuser()}", scope=Scope.ADMIN, tenant=None)
    try:
        yield access, operator
    except LoupeError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        access.close()


def _when(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


@click.group("keys")
def command() -> None:
    """Create, list and revoke API keys."""


@command.command("create")
@click.option("--scope", type=click.Choice([s.value for s in Scope]), required=True)
@click.option("--tenant", default=None, help="Confine the key to one tenant's library.")
@click.option("--name", default=None, help="A label shown in lists and the audit log.")
@click.option("--rps", type=float, default=None, help="Requests per second (default: server's).")
@click.option("--upload-bytes-per-hour", type=int, default=None, help="Upload allowance.")
def create(
    scope: str,
    tenant: str | None,
    name: str | None,
    rps: float | None,
    upload_bytes_per_hour: int | None,
) -> None:
    """Make a key and print it once (only its hash is stored)."""
    with _access() as (access, operator):
        key, secret = access.create(
            scope=Scope(scope),
            tenant=tenant,
            name=name,
            requests_per_s=rps,
            upload_bytes_per_hour=upload_bytes_per_hour,
        )
        audit.record("key.create", operator, request_id=None, ids=[key.id], key_tenant=tenant)
    click.echo(secret)
    click.echo(
        f"key {key.id} ({key.name}, {key.scope.value}"
        f"{', tenant ' + key.tenant if key.tenant else ''}): shown once, keep it safe",
        err=True,
    )


@command.command("list")
def list_keys() -> None:
    """Every key (never the secrets)."""
    with _access() as (access, _):
        keys = access.list()
    table = Table("id", "name", "scope", "tenant", "created", "revoked", "limits")
    for key in keys:
        limits = ", ".join(
            part
            for part in (
                f"{key.requests_per_s:g}/s" if key.requests_per_s else "",
                f"{key.upload_bytes_per_hour} B/h" if key.upload_bytes_per_hour else "",
            )
            if part
        )
        table.add_row(
            key.id,
            key.name,
            key.scope.value,
            key.tenant or "",
            _when(key.created_at),
            _when(key.revoked_at),
            limits,
        )
    console.print(table)


@command.command("revoke")
@click.argument("key_id")
def revoke(key_id: str) -> None:
    """Revoke a key: it stops working at the next request, in every process."""
    with _access() as (access, operator):
        key = access.revoke(key_id)
        audit.record("key.revoke", operator, request_id=None, ids=[key.id])
    click.echo(f"revoked {key.id} ({key.name})")
