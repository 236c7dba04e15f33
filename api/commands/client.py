"""Client-side commands: ``loupe ingest``, ``loupe jobs`` and ``loupe search``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from loupe.api.client import ApiError, LoupeClient

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
console = Console(soft_wrap=True)  # messages stay one line in logs and pipes; tables fit the width
url_option = click.option(
    "--url",
    envvar="LOUPE_URL",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="The Loupe API (env LOUPE_URL).",
)

key_option = click.option(
    "--key",
    envvar="LOUPE_API_KEY",
    default=None,
    help="An API key, when the server needs one (env LOUPE_API_KEY).",
)


def _files(paths: tuple[str, ...]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise click.BadParameter(f"{raw} does not exist")
    return found


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True)
@click.option("--tag", "tags", multiple=True, help="Tag every uploaded item (repeatable).")
@click.option("--batch", default=32, show_default=True, help="Files per upload request.")
@click.option("--wait", is_flag=True, help="Wait until the items are searchable.")
@url_option
@key_option
def ingest_command(
    paths: tuple[str, ...],
    tags: tuple[str, ...],
    batch: int,
    wait: bool,
    url: str,
    key: str | None,
) -> None:
    """Upload image files or folders to a running Loupe."""
    files = _files(paths)
    if not files:
        raise click.UsageError("no image files found")
    client = LoupeClient(url, token=key)
    click.get_current_context().call_on_close(client.close)
    jobs: list[str] = []
    counts = {"queued": 0, "duplicate": 0, "refused": 0}
    with _progress() as progress:
        task = progress.add_task("uploading", total=len(files))
        for start in range(0, len(files), batch):
            chunk = files[start : start + batch]
            try:
                body = client.upload_files(chunk, tags=tags)
            except ApiError as exc:
                if len(chunk) == 1:
                    console.print(f"[red]refused[/] {chunk[0]}: {exc}")
                    counts["refused"] += 1
                    progress.advance(task, 1)
                    continue
                body = _one_by_one(client, chunk, tags, counts)
            for item in body["items"]:
                counts[item["status"]] += 1
                if item["status"] == "refused":
                    console.print(f"[red]refused[/] {item['filename']}: {item.get('error')}")
            if body.get("job_id"):
                jobs.append(body["job_id"])
            progress.advance(task, len(chunk))
        if wait:
            _wait_all(client, jobs, progress)
    console.print(
        f"queued {counts['queued']}, duplicates {counts['duplicate']}, refused {counts['refused']}"
    )


def _one_by_one(
    client: LoupeClient, chunk: list[Path], tags: tuple[str, ...], counts: dict[str, int]
) -> dict[str, Any]:
    merged: dict[str, Any] = {"items": [], "job_id": None}
    for path in chunk:
        try:
            body = client.upload_files([path], tags=tags)
        except ApiError as exc:
            console.print(f"[red]refused[/] {path}: {exc}")
            counts["refused"] += 1
            continue
        merged["items"].extend(body["items"])
        merged["job_id"] = body.get("job_id") or merged["job_id"]
    return merged


def _wait_all(client: LoupeClient, jobs: list[str], progress: Progress) -> None:
    total = sum(client.job(j)["total"] for j in jobs)
    task = progress.add_task("embedding", total=total)
    finished: dict[str, int] = {}
    for job_id in jobs:

        def show(job: dict[str, Any], job_id: str = job_id) -> None:
            finished[job_id] = job["done"] + job["failed"]
            progress.update(task, completed=sum(finished.values()))

        client.wait_job(job_id, on_progress=show)


@click.command("jobs")
@click.argument("job_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@url_option
@key_option
def jobs_command(job_id: str | None, as_json: bool, url: str, key: str | None) -> None:
    """List jobs, or show one job with its errors."""
    client = LoupeClient(url, token=key)
    click.get_current_context().call_on_close(client.close)
    try:
        jobs = [client.job(job_id)] if job_id else client.call("GET", "/v1/jobs")["jobs"]
    except ApiError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(jobs if not job_id else jobs[0], indent=2))
        return
    table = Table("id", "kind", "state", "done", "failed", "total", "rate/s", "eta s")
    for job in jobs:
        rate = f"{job['rate']:.1f}" if job.get("rate") else "-"
        eta = f"{job['eta_s']:.0f}" if job.get("eta_s") else "-"
        table.add_row(
            job["id"],
            job["kind"],
            job["state"],
            str(job["done"]),
            str(job["failed"]),
            str(job["total"]),
            rate,
            eta,
        )
    console.print(table)
    if job_id:
        for err in jobs[0]["errors"]:
            console.print(f"[red]{err['item']}[/]: {err['message']}")


def _end_of_day(value: str | None) -> str | None:
    """A bare date as an upper bound means the whole of that day."""
    return f"{value}T23:59:59.999" if value is not None and len(value) == 10 else value


@click.command("search")
@click.argument("text", required=False)
@click.option("--image", type=click.Path(exists=True, dir_okay=False), help="A query photo.")
@click.option("--limit", default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON answer.")
@click.option("--object", "objects", multiple=True, help="Only photos showing this (repeatable).")
@click.option("--text-contains", default=None, help="Only photos whose text read contains this.")
@click.option("--colour", "colours", multiple=True, help="Only photos with this main colour.")
@click.option("--people-min", type=click.IntRange(min=0), default=None)
@click.option("--people-max", type=click.IntRange(min=0), default=None)
@click.option("--taken-after", default=None, help="Taken on or after (ISO date, e.g. 2024-06-01).")
@click.option("--taken-before", default=None, help="Taken on or before (ISO date or date-time).")
@click.option("--tag", "tags", multiple=True, help="Only items with this tag (repeatable).")
@click.option("--oldest-first", is_flag=True, help="With no query: oldest photos first.")
@url_option
@key_option
def search_command(
    text: str | None,
    image: str | None,
    limit: int,
    as_json: bool,
    objects: tuple[str, ...],
    text_contains: str | None,
    colours: tuple[str, ...],
    people_min: int | None,
    people_max: int | None,
    taken_after: str | None,
    taken_before: str | None,
    tags: tuple[str, ...],
    oldest_first: bool,
    url: str,
    key: str | None,
) -> None:
    """Search by words, by a photo, or both; optionally only photos showing some objects, with
    some text in them, some colours, or so many people, with a tag, or taken between two
    dates. With neither words nor a photo: browse the library, newest first by date taken."""
    if text is None and not image:  # no query: browse the library by date taken
        params: list[tuple[str, str | int]] = [("limit", limit)]
        params += [("order", "asc" if oldest_first else "desc"), *(("tag", t) for t in tags)]
        if taken_after:
            params.append(("taken_after", taken_after))
        if taken_before:
            params.append(("taken_before", str(_end_of_day(taken_before))))
        _print_hits(_call(url, key, "GET", "/v1/items", params=params), as_json, browse=True)
        return
    options: dict[str, object] = {"limit": limit}
    seen = {
        "objects": list(objects),
        "text_contains": text_contains,
        "colours": list(colours),
        "people_min": people_min,
        "people_max": people_max,
        "taken_after": taken_after,
        "taken_before": _end_of_day(taken_before),
        "tags": list(tags),
    }
    if any(v not in (None, []) for v in seen.values()):
        options["filter"] = {k: v for k, v in seen.items() if v not in (None, [])}
    client = LoupeClient(url, token=key)
    click.get_current_context().call_on_close(client.close)
    try:
        if image:
            data = {"options": json.dumps(options)}
            if text:
                data["text"] = text
            path = Path(image)
            body = client.call(
                "POST",
                "/v1/search/image",
                data=data,
                files={"file": (path.name, path.read_bytes())},
            )
        else:
            body = client.call("POST", "/v1/search", json={"text": text, **options})
    except ApiError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        client.close()
    _print_hits(body, as_json, browse=False)


def _call(url: str, key: str | None, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    client = LoupeClient(url, token=key)
    try:
        body: dict[str, Any] = client.call(method, path, **kwargs)
        return body
    except ApiError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        client.close()


def _print_hits(body: dict[str, Any], as_json: bool, *, browse: bool) -> None:
    """The hits as a table: the calibrated match (not raw scores), when each was taken."""
    if as_json:
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    title = f"{body.get('total')} in the library" if browse else f"{body['took_ms']:.1f} ms"
    table = Table("#", "taken" if browse else "match", "kind", "item", "seen", "id", title=title)
    for rank, hit in enumerate(body["hits"], start=1):
        label = hit.get("filename") or (hit.get("text") or "")[:60]
        alt = (hit.get("alt") or {}).get("en") or ""
        taken = hit.get("taken_at")
        when = time.strftime("%Y-%m-%d", time.gmtime(taken)) if taken else ""
        first = when if browse else (hit.get("match") or "–")
        table.add_row(str(rank), first, hit["modality"], label, alt, hit["id"])
    console.print(table)
    if body.get("no_good_match"):
        console.print("[yellow]no good match: these are the nearest items, not good ones[/]")
