"""Celery tasks: thin wrappers around ``ingest.work.process_units``.

The worker's stores (encoder, index, job and blob stores) are opened once per worker process, on
the first task, and kept by the app's tasks — not in a module global."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from celery import Celery, Task
from celery.exceptions import Reject

from loupe.ingest import work
from loupe.ingest.dispatch import TRANSIENT, backoff_s
from loupe.search.errors import Unavailable
from loupe.workers.celery_app import TASK_NAME
from loupe.workers.settings import WorkerSettings

log = logging.getLogger(__name__)
MAX_RETRIES = 20

if TYPE_CHECKING:
    from loupe.ingest.stores import Stores


class StoresHolder:
    """The worker's stores, opened on first use; or ones the caller already holds, which the
    holder then shares and never closes (e.g. a worker thread in a process that already owns
    the embedded index)."""

    def __init__(self, settings: WorkerSettings, stores: Stores | None = None) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._stores = stores
        self._owned = stores is None

    def get(self) -> Stores:
        with self._lock:
            if self._stores is None:
                from loupe.ingest.stores import Stores

                self._stores = Stores.open(self.settings, role="worker")
            return self._stores

    def close(self) -> None:
        with self._lock:
            if self._stores is not None and self._owned:
                self._stores.close()
            self._stores = None


def register_tasks(
    app: Celery, settings: WorkerSettings, *, stores: Stores | None = None
) -> StoresHolder:
    """Register the tasks on ``app``. They use ``stores`` when given (shared, not closed by
    the holder), else stores opened from ``settings`` on the first task."""
    holder = StoresHolder(settings, stores)

    @app.task(  # type: ignore[untyped-decorator]
        name=TASK_NAME,
        shared=False,  # bound to this app's holder: never lent to apps created later
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        max_retries=MAX_RETRIES,
    )
    def process_units(self: Task, job_id: str, seqs: list[int]) -> int:
        stores = holder.get()
        try:
            return work.process_units(stores.pipeline, job_id, seqs)
        except TRANSIENT as exc:
            attempt = int(self.request.retries or 0)
            if attempt >= MAX_RETRIES:
                _give_up(stores, job_id, seqs, exc)
                return 0
            try:
                raise self.retry(exc=exc, countdown=backoff_s(attempt, base=1.0, cap=60.0))
            except Reject as rejected:
                # Celery could not send the retry (the broker is down too) and would drop the
                # message: keep it instead; it is requeued now, or redelivered after the
                # visibility timeout if Redis cannot even take the reject.
                raise Reject(rejected.reason, requeue=True) from exc

    return holder


def _give_up(stores: Stores, job_id: str, seqs: list[int], exc: BaseException) -> None:
    """Record the units as failed (the user may retry the job) once retries are spent."""
    log.error(
        "job %s: giving up on %d units after %d retries (%s)", job_id, len(seqs), MAX_RETRIES, exc
    )
    try:
        stores.jobs.mark(
            job_id, failed=dict.fromkeys(seqs, "a store stayed unavailable; retry the job")
        )
    except Unavailable:
        log.exception("could not record the failure of job %s", job_id)
