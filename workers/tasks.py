"""Celery tasks: thin wrappers around ``ingest.pipeline.Pipeline.process``.

The worker's runtime (encoder, index, stores) is built once per worker process, on the first
task, and kept on the app object — not in a module global."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from celery import Celery, Task

from search.errors import Unavailable
from search.index import IndexUnavailable
from search.settings import Settings
from workers.celery_app import TASK_NAME

if TYPE_CHECKING:
    from workers.runtime import Runtime


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
                from workers.runtime import Runtime

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
        autoretry_for=(Unavailable, IndexUnavailable),
        retry_backoff=True,
        retry_backoff_max=60,
        retry_jitter=True,
        max_retries=20,
        acks_late=True,
        reject_on_worker_lost=True,
    )
    def process_units(self: Task, job_id: str, seqs: list[int]) -> int:
        runtime = holder.get()
        return int(runtime.pipeline.process(job_id, seqs))

    return holder
