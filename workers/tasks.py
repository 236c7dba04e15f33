"""Celery tasks: thin wrappers around ``ingest.pipeline.Pipeline.process``.

The worker's runtime (encoder, index, stores) is built once per worker process, on the first
task, and kept on the app object — not in a module global."""

from __future__ import annotations

import threading
from typing import Any

from celery import Celery, Task

from search.errors import Unavailable
from search.index import IndexUnavailable
from search.settings import Settings
from workers.celery_app import TASK_NAME


class _RuntimeHolder:
    def __init__(self, settings: Settings, runtime: Any = None) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._runtime: Any = runtime
        self._owned = runtime is None

    def get(self) -> Any:
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


def register_tasks(app: Celery, settings: Settings, *, runtime: Any = None) -> _RuntimeHolder:
    """Register the tasks on ``app``. They build their runtime on first use, unless ``runtime``
    (a ``workers.runtime.Runtime`` the caller owns and closes) is given to share, e.g. by a
    benchmark running a worker thread in the process that owns the embedded index."""
    holder = _RuntimeHolder(settings, runtime)

    @app.task(  # type: ignore[untyped-decorator]
        name=TASK_NAME,
        shared=False,  # bound to this app's holder, not added to every later Celery app
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
