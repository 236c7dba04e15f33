"""The Celery app (Redis broker) and the dispatcher the API uses to send it work.

Tasks carry job ids and unit sequence numbers, never image bytes; JSON only; late acks with
``reject_on_worker_lost`` so a killed worker's tasks are redelivered; prefetch 1. Workers run a
thread pool so that concurrent tasks share one micro-batched forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import kombu.exceptions
import redis
from celery import Celery

from loupe.ingest.dispatch import chunks
from loupe.search.errors import Unavailable
from loupe.workers.settings import WorkerSettings

TASK_NAME = "loupe.process_units"
QUEUE = "celery"


def restore_interval_s(visibility_timeout_s: int) -> int:
    """Seconds between sweeps that put back the tasks of lost workers (1 to 10)."""
    return max(1, min(10, visibility_timeout_s // 2))


def make_celery(settings: WorkerSettings) -> Celery:
    if not settings.broker_url:
        raise ValueError("LOUPE_BROKER_URL is not set")
    app = Celery("loupe", broker=settings.broker_url)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=QUEUE,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.task_visibility_timeout_s,
            # kombu sweeps unacked messages every interval x throttle seconds (100 s by
            # default): tie the sweep to the visibility timeout so a lost task comes back soon
            # after it, not minutes later.
            "unacked_restore_interval": restore_interval_s(settings.task_visibility_timeout_s),
            "unacked_restore_throttle": 1,
            "socket_timeout": 5,
            "socket_connect_timeout": 2,
        },
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app


class CeleryDispatcher:
    """Sends units to the workers; fails fast with Unavailable when Redis is down."""

    def __init__(self, app: Celery, *, chunk_size: int, broker_url: str) -> None:
        self.app = app
        self.chunk_size = chunk_size
        self._redis = redis.Redis.from_url(broker_url, socket_timeout=2, socket_connect_timeout=2)

    def submit(self, job_id: str, seqs: Sequence[int]) -> None:
        try:
            with self.app.producer_or_acquire() as producer:
                for chunk in chunks(seqs, self.chunk_size):
                    self.app.send_task(
                        TASK_NAME, args=[job_id, chunk], producer=producer, retry=False
                    )
        except (kombu.exceptions.OperationalError, redis.RedisError, OSError) as exc:
            raise Unavailable("the task queue (Redis) is not reachable") from exc

    def ping(self) -> None:
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            raise Unavailable("the task queue (Redis) is not reachable") from exc

    def queue_depth(self) -> int:
        try:
            return int(self._redis.llen(QUEUE))
        except redis.RedisError:
            return -1

    def close(self) -> None:
        self._redis.close()
