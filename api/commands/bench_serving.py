"""``loupe bench load`` and ``loupe bench serve``: the server measured while it works (concurrent
mixed queries; search while it ingests and builds its index). Registered on the ``bench`` group
in ``commands.bench``."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from loupe.api.commands.bench_options import OUT, bench_settings, clients_option, publish


@click.command("load")
@clients_option(50)
@click.option(
    "--seconds", type=click.FloatRange(min=0.1, max=3600), default=60.0, show_default=True
)
@click.option("--with-bulk-job", is_flag=True, help="Run a bulk ingestion job meanwhile.")
@click.option("--url", default=None, help="A running server (loopback) instead of starting one.")
@click.option("--pid", type=int, default=None, help="The --url server's pid, for its memory.")
@click.option("--size", type=click.IntRange(min=100), default=10_000, show_default=True)
@click.option("--bulk-images", type=click.IntRange(min=1), default=256, show_default=True)
@OUT
def load_command(
    clients: int,
    seconds: float,
    with_bulk_job: bool,
    url: str | None,
    pid: int | None,
    size: int,
    bulk_images: int,
    out: Path | None,
) -> None:
    """Concurrent mixed queries against a server: requests/s, p50/p95/p99, errors, memory."""
    from loupe.bench.ingest import make_pool
    from loupe.bench.load import LoadParams, run_load

    if url is not None and not url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise click.BadParameter("the load test runs on loopback only", param_hint="--url")
    settings = bench_settings()
    params = LoadParams(
        clients=clients,
        seconds=seconds,
        with_bulk_job=with_bulk_job,
        url=url,
        pid=pid,
        size=size,
        bulk_images=bulk_images,
    )
    with contextlib.ExitStack() as stack:
        pool = (
            None
            if url is not None
            else stack.enter_context(contextlib.closing(make_pool(settings)))
        )
        report = run_load(settings, params, pool=pool)
    publish(report, out)


@click.command("serve")
@click.option(
    "--size",
    type=click.IntRange(min=1000, max=1_000_000),
    default=100_000,
    show_default=True,
    help="Points in the collection before the run (jittered real embeddings).",
)
@click.option("--bulk-images", type=click.IntRange(min=32), default=300, show_default=True)
@click.option("--clients", type=click.IntRange(min=1, max=100), default=5, show_default=True)
@click.option("--idle-queries", type=click.IntRange(min=10), default=200, show_default=True)
@OUT
def serve_command(
    size: int, bulk_images: int, clients: int, idle_queries: int, out: Path | None
) -> None:
    """Search while the real server ingests 1600x1200 JPEGs and builds its index."""
    from loupe.bench.ingest import make_pool
    from loupe.bench.serve import ServeParams, run_serve

    settings = bench_settings()
    params = ServeParams(
        size=size, bulk_images=bulk_images, clients=clients, idle_queries=idle_queries
    )
    with contextlib.closing(make_pool(settings)) as pool:
        report = run_serve(settings, params, pool=pool)
    publish(report, out)
