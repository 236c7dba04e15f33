"""``loupe worker``: a Celery worker on the Redis broker of LOUPE_BROKER_URL."""

from __future__ import annotations

import os

import click

from loupe.api.settings import Settings


@click.command("worker")
@click.option("--concurrency", type=int, default=None, help="Task threads (LOUPE_WORKER_THREADS).")
@click.option("--hostname", default=None, help="Celery node name.")
def command(concurrency: int | None, hostname: str | None) -> None:
    """Process ingestion tasks (needs LOUPE_BROKER_URL)."""
    from loupe.api.commands.startup import check_model
    from loupe.workers.celery_app import make_celery
    from loupe.workers.tasks import register_tasks

    settings = Settings()
    if not settings.broker_url:
        raise click.UsageError("LOUPE_BROKER_URL is not set: `loupe serve` alone runs ingestion")
    check_model(settings)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app = make_celery(settings)
    holder = register_tasks(app, settings)
    holder.get()  # load the encoder and open the stores before taking tasks
    argv = [
        "worker",
        "--pool=threads",
        f"--concurrency={concurrency or settings.worker_threads}",
        f"--loglevel={settings.log_level}",
        "--without-gossip",
        "--without-mingle",
    ]
    if hostname:
        argv.append(f"--hostname={hostname}")
    try:
        app.worker_main(argv)
    finally:
        holder.close()
