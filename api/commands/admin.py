"""``loupe reindex`` (a reindex / model migration) and ``loupe enrich`` (the enrichers over
stored images) on a running Loupe, followed to the end with ``--wait``."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from loupe.api.client import ApiError, LoupeClient

console = Console(soft_wrap=True)  # messages stay one line in logs and pipes; tables fit the width


TOKEN = click.option(
    "--token",
    envvar=["LOUPE_API_KEY", "LOUPE_ADMIN_TOKEN"],
    required=True,
    help="An admin key (env LOUPE_API_KEY or LOUPE_ADMIN_TOKEN)",
)
URL = click.option("--url", envvar="LOUPE_URL", default="http://127.0.0.1:8000", show_default=True)


def _follow(client: LoupeClient, job: dict[str, Any], what: str) -> dict[str, Any]:
    with Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(what, total=job["total"])

        def show(state: dict[str, Any]) -> None:
            progress.update(task, completed=state["done"] + state["failed"])

        final: dict[str, Any] = client.wait_job(job["id"], on_progress=show)
        return final


@click.command("enrich")
@click.option("--all", "everything", is_flag=True, help="Every image, not only stale ones.")
@click.option("--wait", is_flag=True, help="Follow the job to its end.")
@URL
@TOKEN
def enrich_command(everything: bool, wait: bool, url: str, token: str) -> None:
    """Run the enrichers switched on now (LOUPE_ENRICHERS of the server) over stored images
    that were enriched with others, or never (--all: every image). Searches go on meanwhile."""
    client = LoupeClient(url, token=token)
    click.get_current_context().call_on_close(client.close)
    try:
        job = client.call("POST", "/v1/admin/enrich", json={"all": everything})
        console.print(f"enrich job {job['id']}: {job['total']} images")
        if not wait or not job["total"]:
            return
        final = _follow(client, job, "enriching")
    except ApiError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        client.close()
    console.print(f"{final['state']}: {final['done']} enriched, {final['failed']} failed")
    if final["state"] not in ("succeeded", "partial"):
        raise click.ClickException(f"enrich job {final['state']}")


@click.command("reindex")
@click.option("--model", default=None, help="'bundled' or 'clip:<name or folder>' (default: same).")
@click.option("--batch-size", type=int, default=None, help="Items per task.")
@click.option("--wait", is_flag=True, help="Follow the job until the swap (or its failure).")
@click.option("--rollback", is_flag=True, help="Instead: make the previous collection live again.")
@click.option("--url", envvar="LOUPE_URL", default="http://127.0.0.1:8000", show_default=True)
@click.option(
    "--token",
    envvar=["LOUPE_API_KEY", "LOUPE_ADMIN_TOKEN"],
    required=True,
    help="An admin key (env LOUPE_API_KEY or LOUPE_ADMIN_TOKEN)",
)
def command(
    model: str | None, batch_size: int | None, wait: bool, rollback: bool, url: str, token: str
) -> None:
    """Re-embed every item into a new collection, then switch searches to it atomically."""
    client = LoupeClient(url, token=token)
    click.get_current_context().call_on_close(client.close)
    try:
        if rollback:
            body = client.call("POST", "/v1/admin/rollback")
            console.print(f"live collection is now {body['live']} (was {body['previous']})")
            return
        payload: dict[str, Any] = {}
        if model:
            payload["model"] = model
        if batch_size:
            payload["batch_size"] = batch_size
        job = client.call("POST", "/v1/admin/reindex", json=payload)
    except ApiError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"reindex job {job['id']}: {job['total']} items into {job['meta']['target']}")
    if not wait:
        return
    with Progress(
        TextColumn("re-embedding"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("reindex", total=job["total"])

        def show(state: dict[str, Any]) -> None:
            progress.update(task, completed=state["done"] + state["failed"])

        final = client.wait_job(job["id"], on_progress=show)
    if final["state"] != "succeeded":
        reason = final["meta"].get("reason", final["state"])
        raise click.ClickException(f"reindex {final['state']}: {reason}; the old collection serves")
    console.print(f"[green]done[/]: searches now use {final['meta']['target']}")
