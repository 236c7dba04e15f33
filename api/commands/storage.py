"""``loupe fsck``: check (and repair) the data folder, through a running server's admin API
(``--url``) or directly on the folder when no server holds it."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from loupe.search.settings import Settings


def _local_fsck(repair: bool, grace_s: float) -> dict[str, Any]:
    from loupe.ingest.blobs import LocalBlobStore, open_blob_store
    from loupe.ingest.fsck import Fsck
    from loupe.search.index import IndexUnavailable, open_index
    from loupe.workers.runtime import open_jobs

    settings = Settings()
    try:
        index = open_index(url=settings.qdrant_url, path=str(settings.index_dir))
    except IndexUnavailable as exc:
        raise click.ClickException(f"{exc} (or run `loupe fsck --url ...` against it)") from None
    jobs = open_jobs(settings)
    try:
        blobs = open_blob_store(settings)
        report = Fsck(
            blobs=blobs if isinstance(blobs, LocalBlobStore) else None,
            index=index,
            jobs=jobs,
            thumbs_dir=settings.data_dir / "thumbs",
            grace_s=grace_s,
        ).run(repair=repair)
    finally:
        jobs.close()
        index.close()
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
