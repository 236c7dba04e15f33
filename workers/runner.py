"""The in-process runner of the embedded default: a few threads running the same pipeline as
the Celery tasks, fed by a queue. Jobs survive a restart: ``resume()`` re-queues every unit that
was not finished (records are in SQLite)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence

from loupe.ingest.dispatch import MAX_ATTEMPTS, TRANSIENT, backoff_s, chunks
from loupe.ingest.pipeline import Pipeline
from loupe.ingest.work import process_units
from loupe.search.errors import LoupeError

log = logging.getLogger(__name__)


class InProcessRunner:
    def __init__(self, pipeline: Pipeline, *, threads: int = 3, chunk_size: int = 32) -> None:
        self.pipeline = pipeline
        self.chunk_size = chunk_size
        self._queue: queue.Queue[tuple[str, list[int], int] | None] = queue.Queue()
        self._busy = 0
        self._cond = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._loop, name=f"loupe-runner-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job_id: str, seqs: Sequence[int]) -> None:
        with self._cond:
            for chunk in chunks(seqs, self.chunk_size):
                self._queue.put((job_id, chunk, 0))
                self._busy += 1

    def resume(self) -> int:
        """Re-queue the unfinished units of every unfinished job; returns how many."""
        count = 0
        for job_id in self.pipeline.jobs.active():
            seqs = self.pipeline.jobs.queued(job_id)
            self.submit(job_id, seqs)
            count += len(seqs)
        if count:
            log.info("resumed %d unfinished items", count)
        return count

    def ping(self) -> None:
        return None

    def queue_depth(self) -> int:
        return self._queue.qsize()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job_id, seqs, attempt = item
            try:
                process_units(self.pipeline, job_id, seqs)
            except TRANSIENT as exc:
                if self._closed:  # the units stay queued in the job store: resume() redoes them
                    self._finish_one()
                    continue
                if attempt + 1 < MAX_ATTEMPTS:
                    delay = backoff_s(attempt)
                    log.warning("transient error (%s); retry in %.1fs", exc, delay)
                    timer = threading.Timer(
                        delay, self._queue.put, args=[(job_id, seqs, attempt + 1)]
                    )
                    timer.daemon = True
                    timer.start()
                    continue
                why = exc.message if isinstance(exc, LoupeError) else "the index stayed unavailable"
                self._fail(job_id, seqs, f"{why}; retry the job")
            except Exception:  # a bug must not kill the runner thread: record it on the job
                log.exception("batch of job %s failed", job_id)
                self._fail(job_id, seqs, "internal error while processing this item")
            self._finish_one()

    def _fail(self, job_id: str, seqs: list[int], message: str) -> None:
        try:
            self.pipeline.jobs.mark(job_id, failed=dict.fromkeys(seqs, message))
        except TRANSIENT:
            log.exception("could not record the failure of job %s", job_id)

    def _finish_one(self) -> None:
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted unit is processed (for the CLI and tests)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._busy > 0:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self) -> None:
        """Stop after the batches in progress. Queued batches are dropped here, not lost: their
        units are still queued in the job store and ``resume()`` picks them up next start."""
        self._closed = True
        while True:
            try:
                dropped = self._queue.get_nowait()
            except queue.Empty:
                break
            if dropped is not None:
                self._finish_one()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
