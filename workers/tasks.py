"""Celery tasks: thin wrappers around ``ingest.pipeline.Pipeline.process``.

The worker's runtime (encoder, index, stores) is built once per worker process, on the first
task, and kept on the app object — not in a module global."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from celery import Celery, Task
from celery.exceptions import Reject

from loupe.search.errors import Unavailable
from loupe.search.settings import Settings
from loupe.workers.celery_app import TASK_NAME
from loupe.workers.dispatch import TRANSIENT, backoff_s

log = logging.getLogger(__name__)
MAX_RETRIES = 20

if TYPE_CHECKING:
    from loupe.workers.runtime import Runtime


class _RuntimeHolder:
    """The worker's runtime, built on first use; or one the caller already holds, which the
    holder then shares and never closes (e.g. a worker thread in a process that already owns
    the embedded index)."""

    def __init__(self, settings: Settings, runtime: Runtime | None = None) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._runtime = runtime
        self._owned = runtime is None

    def get(self) -> Runtime:
        with self._lock:
            if self._runtime is None:
                from loupe.workers.runtime import Runtime

                self._runtime = Runtime.build(self.settings, role="worker")
            return self._runtime

    def close(self) -> None:
        with self._lock:
            if self._runtime is not None and self._owned:
                self._runtime.close()
            self._runtime = None


def register_tasks(
    app: Celery, settings: Settings, *, runtime: Runtime | None = None
) -> _RuntimeHolder:
    """Register the tasks on ``app``. They use ``runtime`` when given (shared, not closed by
    the holder), else a runtime built from ``settings`` on the first task."""
    holder = _RuntimeHolder(settings, runtime)

    @app.task(  # type: ignore[untyped-decorator]
        name=TASK_NAME,
        shared=False,  # bound to this app's holder: never lent to apps created later
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        max_retries=MAX_RETRIES,
    )
    def process_units(self: Task, job_id: str, seqs: list[int]) -> int:
        runtime = holder.get()
        try:
            return int(runtime.pipeline.process(job_id, seqs))
        except TRANSIENT as exc:
            attempt = int(self.request.retries or 0)
            if attempt >= MAX_RETRIES:
                _give_up(runtime, job_id, seqs, exc)
                return 0
            try:
                raise self.retry(exc=exc, countdown=backoff_s(attempt, base=1.0, cap=60.0))
            except Reject as rejected:
                # Celery could not send the retry (the broker is down too) and would drop the
                # message: keep it instead; it is requeued now, or redelivered after the
                # visibility timeout if Redis cannot even take the reject.
                raise Reject(rejected.reason, requeue=True) from exc

    return holder


def _give_up(runtime: Runtime, job_id: str, seqs: list[int], exc: BaseException) -> None:
    """Record the units as failed (the user may retry the job) once retries are spent."""
    log.error(
        "job %s: giving up on %d units after %d retries (%s)", job_id, len(seqs), MAX_RETRIES, exc
    )
    try:
        runtime.jobs.mark(
            job_id, failed=dict.fromkeys(seqs, "a store stayed unavailable; retry the job")
        )
    except Unavailable:
        log.exception("could not record the failure of job %s", job_id)
