"""``loupe eval DATASET``: measure an encoder's retrieval quality on a labelled image set."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from loupe.api.settings import Settings
from loupe.bench.evaluation.concepts import evaluate_concepts
from loupe.bench.evaluation.datasets import load_dataset
from loupe.bench.evaluation.run import EvalReport, evaluate_dataset
from loupe.search.encoders import EncoderUnavailable, make_encoder
from loupe.search.errors import LoupeError


def _table(report: EvalReport) -> Table:
    table = Table(
        title=f"{report.dataset}: {report.images} images, {report.labels} labels, "
        f"model {report.model_id}"
    )
    table.add_column("task")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for task, metric, value in report.rows():
        table.add_row(task, metric, f"{value:.1f}" if metric == "images/s" else f"{value:.4f}")
    return table


def _settings(ctx: click.Context) -> Settings:
    """The entry point's Settings when the CLI group put one in ``ctx.obj``, else from the env."""
    found = ctx.find_object(Settings)
    return found if found is not None else Settings.model_validate({})  # reads LOUPE_* too


def _seen(settings: Settings, model: str | None, *, as_json: bool, out: Path | None) -> None:
    from loupe.bench.evaluation.seen import run_seen
    from loupe.ingest.enrich.runner import build_enrichers

    try:
        encoder = make_encoder(
            model or settings.model,
            device=settings.device,
            batch_size=settings.encode_batch_size,
            clip_text_model=settings.clip_text_model,
        )
        enrichers = build_enrichers(settings.enrichers, ocr_min_score=settings.ocr_min_score)
        report = run_seen(encoder, enrichers)
    except LoupeError as error:
        raise click.ClickException(error.message) from error
    except EncoderUnavailable as error:
        raise click.ClickException(str(error)) from error
    body = json.dumps(asdict(report), indent=2, ensure_ascii=False)
    if out is not None:
        out.write_text(body + "\n", encoding="utf-8")
    if as_json:
        click.echo(body)
        return
    table = Table(
        title=f"seen: model {report.model_id}, enrichers {','.join(report.enrichers) or 'none'}"
    )
    for column in ("queries", "n", "hit@3 before", "hit@3 after"):
        table.add_column(column, justify="left" if column == "queries" else "right")
    for kind, n, before, after in report.rows():
        table.add_row(kind, str(n), f"{before:.2f}", f"{after:.2f}")
    Console().print(table)
    for kind, misses in report.misses.items():
        if misses:
            Console().print(f"{kind} missed: {'; '.join(misses)}")


@click.command("eval")
@click.argument("dataset")
@click.option("--model", default=None, help="Encoder spec (default: LOUPE_MODEL).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Images, class-balanced.")
@click.option("--per-class", type=click.IntRange(min=1), default=None, help="Images per label.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the slice.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Also write the JSON report to this file.",
)
@click.option(
    "--weights",
    default="0.1,0.3,0.5,1",
    show_default=True,
    help="concepts only: the concept weights to compare (comma-separated).",
)
@click.pass_context
def command(
    ctx: click.Context,
    dataset: str,
    model: str | None,
    limit: int | None,
    per_class: int | None,
    seed: int,
    batch_size: int,
    as_json: bool,
    out: Path | None,
    weights: str,
) -> None:
    """Measure retrieval quality on DATASET.

    DATASET is fashion-mnist, animal-mnist, samples, samples-zh, folder:<path> (one
    sub-folder of images per label), or concepts (164 GCompris photos, English and Chinese
    queries by type: dense route vs fused concept route; needs gcompris-qt-data). Reports
    zero-shot accuracy, text→image hit/recall/precision@k and mAP, leave-one-out image→image
    metrics, and images per second.

    DATASET ``seen``: text-in-image and compositional queries, English and Chinese, hit@3
    without and with what LOUPE_ENRICHERS saw (bench.evaluation.seen).
    """
    settings = _settings(ctx)
    if dataset == "concepts":
        _concepts(settings, model, weights, as_json, out)
        return
    if dataset == "seen":
        _seen(settings, model, as_json=as_json, out=out)
        return
    try:
        data = load_dataset(dataset, limit=limit, per_class=per_class, seed=seed)
        encoder = make_encoder(
            model or settings.model,
            device=settings.device,
            batch_size=settings.encode_batch_size,
            clip_text_model=settings.clip_text_model,
        )
        report = evaluate_dataset(encoder, data, name=dataset, batch_size=batch_size)
    except LoupeError as error:
        raise click.ClickException(error.message) from error
    except EncoderUnavailable as error:
        raise click.ClickException(str(error)) from error
    if out is not None:
        out.write_text(report.to_json() + "\n", encoding="utf-8")
    if as_json:
        click.echo(report.to_json())
    else:
        Console().print(_table(report))


def _concepts(
    settings: Settings, model: str | None, weights: str, as_json: bool, out: Path | None
) -> None:
    try:
        chosen = tuple(float(w) for w in weights.split(",") if w.strip())
    except ValueError as error:
        raise click.BadParameter(f"--weights: {error}") from error
    try:
        encoder = make_encoder(
            model or settings.model, device=settings.device, batch_size=settings.encode_batch_size
        )
        report = evaluate_concepts(encoder, weights=chosen or (settings.concept_weight,))
    except LoupeError as error:
        raise click.ClickException(error.message) from error
    except EncoderUnavailable as error:
        raise click.ClickException(str(error)) from error
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
    if as_json:
        click.echo(text)
        return
    table = Table(
        title=f"concepts: {report['photos']} photos, {report['queries']} queries, "
        f"model {report['model_id']}"
    )
    for column in ("config", "lang", "queries", "hit@3", "mAP@10"):
        table.add_column(column, justify="right" if column != "config" else "left")
    rows = report["rows"]
    assert isinstance(rows, list)
    for row in rows:
        table.add_row(
            row["config"],
            f"{row['lang']} {row['kind']}",
            str(row["queries"]),
            f"{row['hit@3']:.3f}",
            f"{row['mAP@10']:.3f}",
        )
    Console().print(table)
