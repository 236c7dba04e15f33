"""What the ``loupe bench`` commands share: their common options (one definition each), the
parsing of their list arguments, the settings they run under, and how a report is shown."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from loupe.api.settings import Settings

if TYPE_CHECKING:
    from loupe.bench.report import Report

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

OUT = click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="JSON report path (default .bench/<name>-<timestamp>.json).",
)
IMAGES = click.option("--images", type=click.IntRange(min=1), default=512, show_default=True)
RUNS = click.option("--runs", type=click.IntRange(min=1), default=3, show_default=True)
SIZES = click.option("--sizes", default="10000,100000", show_default=True)
QUERIES = click.option("--queries", type=click.IntRange(min=1), default=200, show_default=True)


def clients_option(default: int) -> Decorator:
    return click.option(
        "--clients", type=click.IntRange(min=1, max=1000), default=default, show_default=True
    )


def bench_settings() -> Settings:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return Settings.model_validate({})  # reads LOUPE_* from the environment


def redis_url(given: str | None) -> str:
    return (
        given
        or os.environ.get("LOUPE_BROKER_URL")
        or os.environ.get("LOUPE_TEST_REDIS_URL")
        or "redis://127.0.0.1:6379/15"
    )


def parse_sizes(raw: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter("sizes are comma-separated integers") from None
    if not sizes or min(sizes) < 100:
        raise click.BadParameter("each size must be at least 100")
    return sizes


def parse_photo_sizes(raw: str) -> tuple[str, ...]:
    from loupe.bench.ingest import parse_size

    labels = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    try:
        for label in labels:
            parse_size(label)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if not labels:
        raise click.BadParameter("give at least one photo size")
    return labels


def publish(report: Report, out: Path | None) -> None:
    """Print the report's table and write its JSON (``out``, else the default path)."""
    report.print()
    click.echo(f"wrote {report.write(out)}")


def parse_enricher_set(raw: str) -> tuple[str, ...]:
    """``--enrichers``: a comma-separated enricher set, or ``none``."""
    from loupe.ingest.settings import KNOWN_ENRICHERS

    names = tuple(p.strip() for p in raw.split(",") if p.strip() and p.strip() != "none")
    unknown = sorted(set(names) - KNOWN_ENRICHERS)
    if unknown:
        raise click.BadParameter(f"unknown enrichers {unknown}; known: {sorted(KNOWN_ENRICHERS)}")
    return names
