"""``loupe bench {ingest,search,load,serve,relevance,all}``: benchmarks as programs. Each prints
a table and writes a JSON report (``--out``, default ``.bench/<name>-<timestamp>.json``); every
figure stands beside a baseline measured in the same run (``relevance`` reports rates). Logic
lives in ``loupe.bench`` (``bench/``); ``load`` and ``serve`` are defined in ``bench_serving``."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import click

from loupe.api.commands.bench_options import (
    IMAGES,
    OUT,
    QUERIES,
    RUNS,
    SIZES,
    bench_settings,
    clients_option,
    parse_enricher_set,
    parse_photo_sizes,
    parse_sizes,
    publish,
    redis_url,
)
from loupe.api.commands.bench_serving import load_command, serve_command
from loupe.search.errors import LoupeError


@click.group("bench")
def command() -> None:
    """Benchmarks: ingestion throughput, query latency/recall, load."""
    # The benchmark's own HTTP client logs a line per request at INFO: CPU taken from the server
    # being measured, on a 2-core box. The server's access log stays as deployed.
    logging.getLogger("httpx").setLevel(logging.WARNING)


command.add_command(load_command)
command.add_command(serve_command)


@command.command("ingest")
@IMAGES
@RUNS
@click.option(
    "--celery/--no-celery",
    default=None,
    help="Also measure one Celery worker (default: when Redis answers).",
)
@click.option(
    "--redis-url",
    "given_redis_url",
    default=None,
    help="Redis for --celery (default broker/test URL).",
)
@click.option(
    "--photo-sizes",
    default="0.3mp,1600x1200",
    show_default=True,
    help="Comma-separated: 0.3mp (mixed shapes) and/or WIDTHxHEIGHT.",
)
@click.option(
    "--enrichers",
    "enricher_sets",
    multiple=True,
    help="An enricher set to measure (comma-separated, or 'none'); repeat to compare sets in "
    "one run, each against the first (default: LOUPE_ENRICHERS).",
)
@OUT
def ingest_command(
    images: int,
    runs: int,
    celery: bool | None,
    given_redis_url: str | None,
    photo_sizes: str,
    enricher_sets: tuple[str, ...],
    out: Path | None,
) -> None:
    """Raw encoder vs end-to-end ingestion (in-process runner, optionally Celery), per photo
    size; the raw baseline runs on as many threads as the runner; the enrichers of
    LOUPE_ENRICHERS run in the end-to-end figures only."""
    from loupe.bench.ingest import IngestParams, run_ingest

    params = IngestParams(
        images=images,
        runs=runs,
        celery=celery,
        redis_url=redis_url(given_redis_url),
        sizes=parse_photo_sizes(photo_sizes),
        enricher_sets=tuple(parse_enricher_set(raw) for raw in enricher_sets) or None,
    )
    publish(run_ingest(bench_settings(), params), out)


@command.command("search")
@SIZES
@QUERIES
@click.option("--sigma", type=click.FloatRange(min=0), default=0.5, show_default=True)
@click.option(
    "--max-optimize-s",
    type=click.FloatRange(min=0),
    default=600.0,
    show_default=True,
    help="Skip HNSW at a size whose optimize() is estimated longer; 0: at every size (the "
    "collection stays in its tail, searched exactly, as a library under LOUPE_INDEX_BUILD_AFTER "
    "points is).",
)
@click.option(
    "--crops",
    type=click.IntRange(min=0),
    default=12,
    show_default=True,
    help="Augmented crops embedded per sample photo (the base vectors).",
)
@click.option(
    "--tenants",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Spread the points over N tenants and also time tenant-filtered searches.",
)
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Build each size's collection in this folder once and reuse it on later runs with "
    "the same inputs (skips upsert and optimize()).",
)
@OUT
def search_command(
    sizes: str,
    queries: int,
    sigma: float,
    max_optimize_s: float,
    crops: int,
    tenants: int,
    keep: Path | None,
    out: Path | None,
) -> None:
    """Query latency over HTTP and recall@10 vs exact search, per collection size."""
    from loupe.bench.ingest import make_pool
    from loupe.bench.search import SearchParams, run_search

    settings = bench_settings()
    params = SearchParams(
        sizes=parse_sizes(sizes),
        queries=queries,
        sigma=sigma,
        max_optimize_s=max_optimize_s,
        crops=crops,
        tenants=tenants,
        keep=keep,
    )
    with contextlib.closing(make_pool(settings)) as pool:
        report = run_search(settings, params, pool=pool)
    publish(report, out)


@command.command("relevance")
@click.option(
    "--per-class",
    type=click.IntRange(min=1, max=1000),
    default=10,
    show_default=True,
    help="Fashion-MNIST and Animal-MNIST images per class in the larger collection.",
)
@click.option(
    "--enrichers",
    default="",
    show_default=True,
    help="Enrichers run on each photo as ingest would (e.g. ocr,faces,colour; LOUPE_ENRICHERS's "
    "default), so their evidence is judged too; empty: the vectors alone.",
)
@OUT
def relevance_command(per_class: int, enrichers: str, out: Path | None) -> None:
    """no_good_match false alarms on answered queries and catches on nonsense; match precision."""
    from loupe.bench.evaluation.relevance import RelevanceParams, run_relevance
    from loupe.search.encoders import make_encoder

    settings = bench_settings()
    encoder = make_encoder(settings.model, device=settings.device)
    names = tuple(n.strip() for n in enrichers.split(",") if n.strip())
    try:
        report = run_relevance(encoder, RelevanceParams(per_class=per_class, enrichers=names))
    except LoupeError as error:  # an unknown enricher
        raise click.ClickException(error.message) from error
    publish(report, out)


@command.command("browse")
@SIZES
@RUNS
@click.option("--offset", type=click.IntRange(min=0), default=2_400, show_default=True)
@OUT
def browse_command(sizes: str, runs: int, offset: int, out: Path | None) -> None:
    """A page of the library by date: ordered by the index vs read and sorted in memory."""
    from loupe.bench.browse import BrowseParams, run_browse

    bench_settings()
    params = BrowseParams(sizes=parse_sizes(sizes), runs=runs, offset=offset)
    publish(run_browse(params), out)


@command.command("all")
@IMAGES
@RUNS
@SIZES
@QUERIES
@click.option("--load-seconds", type=click.FloatRange(min=0.1), default=15.0, show_default=True)
@clients_option(20)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the three JSON reports (default .bench/).",
)
def all_command(
    images: int,
    runs: int,
    sizes: str,
    queries: int,
    load_seconds: float,
    clients: int,
    out_dir: Path | None,
) -> None:
    """ingest, then search, then a short load test, sharing one loaded encoder."""
    from loupe.bench.ingest import IngestParams, make_pool, run_ingest
    from loupe.bench.load import LoadParams, run_load
    from loupe.bench.search import SearchParams, run_search

    settings = bench_settings()
    with contextlib.closing(make_pool(settings)) as pool:
        reports = [
            run_ingest(
                settings,
                IngestParams(images=images, runs=runs, redis_url=redis_url(None)),
                pool=pool,
            ),
            run_search(
                settings, SearchParams(sizes=parse_sizes(sizes), queries=queries), pool=pool
            ),
            run_load(
                settings,
                LoadParams(clients=clients, seconds=load_seconds, size=min(parse_sizes(sizes))),
                pool=pool,
            ),
        ]
    for report in reports:
        publish(report, None if out_dir is None else out_dir / f"{report.name}.json")
