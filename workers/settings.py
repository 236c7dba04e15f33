"""Settings of the Celery worker (``LOUPE_`` environment variables), on top of
``IngestSettings``."""

from __future__ import annotations

from pydantic import Field

from loupe.ingest.settings import IngestSettings


class WorkerSettings(IngestSettings):
    """The knobs of ``workers/`` (and of ``ingest/`` and ``search/``, which it extends)."""

    task_visibility_timeout_s: int = Field(
        3600, ge=1, description="Seconds before a task taken by a lost worker is redelivered."
    )
    worker_threads: int = Field(
        4, ge=1, le=64, description="Concurrent tasks per worker (they share micro-batches)."
    )
