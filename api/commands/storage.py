"""``loupe fsck``, ``loupe backup`` and ``loupe restore``: through a running server's admin API
(``--url``) or directly on the data folder when no server holds it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from loupe.api.settings import Settings
from loupe.ingest.blobs import BlobStore
from loupe.ingest.jobs import JobStore
from loupe.search.index import VectorIndex


@contextlib.contextmanager
def _stores(settings: Settings) -> Iterator[tuple[VectorIndex, BlobStore, JobStore]]:
    """Index, blobs and jobs of the data folder, without encoders (a server must not hold it)."""
    from loupe.ingest.blobs import open_blob_store
    from loupe.ingest.stores import open_jobs
    from loupe.search.index import IndexUnavailable, open_index

    try:
        index = open_index(url=settings.qdrant_url, path=str(settings.index_dir))
    except IndexUnavailable as exc:
        raise click.ClickException(f"{exc} (or pass --url to ask the running server)") from None
    try:
        jobs = open_jobs(settings)
        try:
            yield index, open_blob_store(settings), jobs
        finally:
            jobs.close()
    finally:
        index.close()


def _local_fsck(repair: bool, grace_s: float) -> dict[str, Any]:
    from loupe.ingest.blobs import LocalBlobStore
    from loupe.ingest.fsck import Fsck

    settings = Settings()
    with _stores(settings) as (index, blobs, jobs):
        report = Fsck(
            blobs=blobs if isinstance(blobs, LocalBlobStore) else None,
            index=index,
            jobs=jobs,
            thumbs_dir=settings.data_dir / "thumbs",
            grace_s=grace_s,
        ).run(repair=repair)
    return {**asdict(report), "clean": report.clean}


def _show(body: dict[str, Any]) -> None:
    click.echo(f"{body['blobs']} blobs, {body['points']} points")
    if not body["checked_blobs"]:
        click.echo("blobs in S3 were not listed or hashed (only their existence was checked)")
    for name in (
        "damaged_blobs",
        "points_without_blobs",
        "orphan_blobs",
        "leftovers",
        "jobs_with_missing_items",
    ):
        finding = body[name]
        if finding["count"]:
            shown = ", ".join(finding["examples"][:5])
            click.echo(f"{name.replace('_', ' ')}: {finding['count']} ({shown})")
    if body["repaired"]:
        done = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in body["repaired"].items())
        click.echo(f"repaired: {done}")
    click.echo("clean" if body["clean"] else "problems found")


@click.command("fsck")
@click.option("--repair", is_flag=True, help="Re-link what can be, remove orphans and leftovers.")
@click.option(
    "--grace",
    "grace_s",
    type=float,
    default=3600.0,
    show_default=True,
    help="Leave files younger than this many seconds alone (writes in flight).",
)
@click.option("--url", default=None, help="A running Loupe: ask its admin API instead.")
@click.option(
    "--token",
    envvar=["LOUPE_API_KEY", "LOUPE_ADMIN_TOKEN"],
    default=None,
    help="Admin key for --url (env LOUPE_API_KEY or LOUPE_ADMIN_TOKEN).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def fsck_command(
    repair: bool, grace_s: float, url: str | None, token: str | None, as_json: bool
) -> None:
    """Check blobs against their sha256, points against blobs and jobs against items.

    Exit status 1 when problems were found (and not all repaired)."""
    if url:
        from loupe.api.client import ApiError, LoupeClient

        try:
            body = LoupeClient(url, token=token).call(
                "POST", "/v1/admin/fsck", json={"repair": repair, "grace_s": grace_s}
            )
        except ApiError as exc:
            raise click.ClickException(str(exc)) from None
    else:
        body = _local_fsck(repair, grace_s)
    if as_json:
        click.echo(json.dumps(body, indent=2))
    else:
        _show(body)
    if not body["clean"] and not repair:
        raise SystemExit(1)


@click.command("backup")
@click.argument("dest")
@click.option(
    "--url",
    default=None,
    help="A running Loupe: it writes DEST (a name) under its "
    "LOUPE_BACKUP_DIR while it keeps serving.",
)
@click.option(
    "--token",
    envvar=["LOUPE_API_KEY", "LOUPE_ADMIN_TOKEN"],
    default=None,
    help="Admin key for --url (env LOUPE_API_KEY or LOUPE_ADMIN_TOKEN).",
)
def backup_command(dest: str, url: str | None, token: str | None) -> None:
    """Copy the library (index, blobs, job records) into the new folder DEST."""
    if url:
        from loupe.api.client import ApiError, LoupeClient

        try:
            body = LoupeClient(url, token=token).call(
                "POST", "/v1/admin/backup", json={"name": dest}
            )
        except ApiError as exc:
            raise click.ClickException(str(exc)) from None
    else:
        from loupe.ingest.backup import backup
        from loupe.search.errors import LoupeError

        settings = Settings()
        with _stores(settings) as (index, blobs, jobs):
            try:
                report = backup(
                    Path(dest), index=index, blobs=blobs, jobs=jobs, data_dir=settings.data_dir
                )
            except LoupeError as exc:
                raise click.ClickException(exc.message) from None
        body = asdict(report)
    click.echo(
        f"backup {dest}: {len(body['collections'])} collections, {body['blobs']} blobs "
        f"({body['blob_bytes'] / 1e6:.1f} MB, {body['blobs_linked']} hard-linked) "
        f"in {body['took_s']:.1f} s"
    )


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(src: Path) -> None:
    """Put the backup SRC into LOUPE_DATA_DIR (which must hold no library yet); then start
    `loupe serve` on it."""
    from loupe.ingest.backup import restore
    from loupe.search.errors import LoupeError

    settings = Settings()
    try:
        report = restore(src, settings.data_dir)
    except LoupeError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(
        f"restored {len(report.collections)} collections and {report.blobs} blobs into "
        f"{settings.data_dir}; live: {report.aliases}"
    )
