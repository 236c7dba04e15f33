"""One Celery worker (threads pool) inside this process, sharing the caller's ``Stores``: the
embedded index has one owner process, so the worker must live where the index is open."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from loupe.api.settings import Settings
from loupe.ingest.dispatch import Dispatcher
from loupe.ingest.stores import Stores


@contextmanager
def celery_dispatcher(stores: Stores, settings: Settings) -> Iterator[Dispatcher]:
    """A dispatcher sending to a worker thread that runs ``stores``' pipeline; the worker
    stops (after its tasks) when the context exits."""
    from celery.contrib.testing.worker import start_worker

    from loupe.workers.celery_app import CeleryDispatcher, make_celery
    from loupe.workers.tasks import register_tasks

    if not settings.broker_url:
        raise ValueError("the Celery benchmark needs settings.broker_url")
    app = make_celery(settings)
    register_tasks(app, settings, stores=stores)
    dispatcher = CeleryDispatcher(
        app, chunk_size=settings.encode_batch_size, broker_url=settings.broker_url
    )
    with start_worker(
        app,
        pool="threads",
        concurrency=settings.worker_threads,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=30.0,
    ):
        try:
            yield dispatcher
        finally:
            dispatcher.close()
