"""The dispatcher an API process hands ingestion work to: Celery when ``LOUPE_BROKER_URL`` is set,
else the in-process runner (which first re-queues what a previous run left unfinished)."""

from __future__ import annotations

from loupe.ingest.dispatch import Dispatcher
from loupe.ingest.pipeline import Pipeline
from loupe.workers.settings import WorkerSettings

RUNNER_THREADS = 3


def make_dispatcher(settings: WorkerSettings, pipeline: Pipeline) -> Dispatcher:
    if settings.broker_url:
        from loupe.workers.celery_app import CeleryDispatcher, make_celery

        return CeleryDispatcher(
            make_celery(settings),
            chunk_size=settings.encode_batch_size,
            broker_url=settings.broker_url,
        )
    from loupe.workers.runner import InProcessRunner

    runner = InProcessRunner(
        pipeline, threads=RUNNER_THREADS, chunk_size=settings.encode_batch_size
    )
    runner.resume()
    return runner
