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
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._runtime: Any = None

    def get(self) -> Any:
        with self._lock:
            if self._runtime is None:
                from workers.runtime import Runtime

                self._runtime = Runtime.build(self.settings, role="worker")
            return self._runtime

    def close(self) -> None:
        with self._lock:
            if self._runtime is not None:
                self._runtime.close()
                self._runtime = None


def register_tasks(app: Celery, settings: Settings) -> _RuntimeHolder:
    holder = _RuntimeHolder(settings)

    @app.task(  # type: ignore[untyped-decorator]
        name=TASK_NAME,
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
