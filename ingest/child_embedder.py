"""``ChildEmbedder``: ingestion's CPU work (read, validate, store blob, decode, forward pass) in
child processes at low CPU priority, so a server that ingests keeps answering queries first.

Why (profiled with py-spy on ``loupe serve`` during a bulk job of 1600x1200 JPEGs, 2 cores):
the runner threads' decoding and onnxruntime's intra-op pool (two threads) shared the cores
with the query encoder's OpenMP team; a query text that encodes in ~7 ms idle spent ~500 ms in
``E5._encode`` (its team's barriers waited for descheduled threads). Children at ``nice`` 10
give way to the server's threads at once; each runs one intra-op thread and one OpenMP thread,
so nothing spins on a core a query needs.

Each child builds its own blob store and encoders from the same ``IngestSettings`` (in the pool's
initializer) and dies with its parent (``PR_SET_PDEATHSIG``). A child that dies mid-batch
breaks the pool: the batch raises ``Unavailable`` (the runner retries it) and the next call
starts a fresh pool.

**Recycled when idle.** A child's heap grows with a job (decoder buffers, onnxruntime's and the
OCR's arenas) and is never handed back: ~400 MB each at start, ~900 MB after 400 photos of
1600x1200, unchanged 90 s later (measured on ``loupe serve``). Once no batch has run for
``recycle_idle_s`` after a job, the pool is replaced by a fresh one (started at once if the
embedder was warmed, else on the next batch), so memory goes back down after a job.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from loupe.ingest.blobs import open_blob_store
from loupe.ingest.embedding import Embedded, InlineEmbedder
from loupe.ingest.enrich.runner import build_enrichers
from loupe.ingest.jobs import Unit
from loupe.ingest.settings import IngestSettings
from loupe.ingest.units import Limits
from loupe.search.encoders.pool import EncoderPool
from loupe.search.errors import Unavailable
from loupe.search.parent_death import die_with_parent


@dataclass(frozen=True, slots=True)
class ChildConfig:
    settings: IngestSettings
    limits: Limits
    nice: int


class _Child:
    """The embedder of one child process (set by ``_init``, used by ``_embed``)."""

    embedder: InlineEmbedder | None = None


def _init(config: ChildConfig) -> None:
    die_with_parent()
    os.nice(config.nice)
    # One OpenMP thread and one onnxruntime intra-op thread per child; set before any load.
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ.setdefault("GOMP_SPINCOUNT", "0")
    settings = config.settings
    encoders = EncoderPool(
        settings.model,
        device=settings.device,
        batch_size=settings.encode_batch_size,
        wait_ms=settings.batch_wait_ms,
        clip_text_model=settings.clip_text_model,
        threads=1,
    )
    encoders.default.load()
    enrichers = build_enrichers(settings.enrichers, ocr_min_score=settings.ocr_min_score)
    enrichers.load()
    _Child.embedder = InlineEmbedder(
        blobs=open_blob_store(settings),
        encoders=encoders,
        limits=config.limits,
        enrichers=enrichers,
    )


def _ready() -> bool:
    return _Child.embedder is not None


def _embed(units: Sequence[Unit], model_ids: Sequence[str]) -> Embedded:
    if _Child.embedder is None:
        raise RuntimeError("child embedder not initialised")
    embedded = _Child.embedder.embed(units, model_ids)
    embedded.batch_sizes = _Child.embedder.take_batch_sizes()
    return embedded


class ChildEmbedder:
    """An ``Embedder`` over ``processes`` child processes at ``nice`` (see module docstring)."""

    def __init__(
        self,
        settings: IngestSettings,
        limits: Limits,
        *,
        processes: int,
        nice: int,
        recycle_idle_s: float = 0.0,
    ) -> None:
        self._config = ChildConfig(settings.ingest_only(), limits, nice)
        self._processes = max(1, processes)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._batch_sizes: list[int] = []
        self._warmed = False
        self._in_flight = 0
        self._used_at: float | None = None  # when the last batch ended; None: none since a start
        self._closed = threading.Event()
        if recycle_idle_s > 0:
            threading.Thread(
                target=self._recycle_when_idle,
                args=(recycle_idle_s,),
                name="loupe-ingest-recycle",
                daemon=True,
            ).start()

    def _executor_locked(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init,
                initargs=(self._config,),
            )
        return self._pool

    def warm(self) -> None:
        """Start every child now (each loads its models in its initializer), without waiting;
        nothing once closed (a recycle racing ``close`` must not start a new pool)."""
        with self._lock:
            if self._closed.is_set():
                return
            self._warmed = True
            pool = self._executor_locked()
        for _ in range(self._processes):
            pool.submit(_ready)

    def _recycle_when_idle(self, idle_s: float) -> None:
        while not self._closed.wait(min(5.0, idle_s / 2)):
            with self._lock:
                used = self._used_at
                if self._in_flight or used is None or time.monotonic() - used < idle_s:
                    continue
                pool, self._pool, self._used_at = self._pool, None, None
                warm = self._warmed
            if pool is not None:
                pool.shutdown(wait=True)
            if warm and not self._closed.is_set():
                self.warm()

    def embed(self, units: Sequence[Unit], model_ids: Sequence[str]) -> Embedded:
        with self._lock:
            pool = self._executor_locked()
            self._in_flight += 1
        try:
            embedded = pool.submit(_embed, list(units), list(model_ids)).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise Unavailable("an ingestion process died; the batch will be retried") from None
        finally:
            with self._lock:
                self._in_flight -= 1
                self._used_at = time.monotonic()
        with self._lock:
            self._batch_sizes.extend(embedded.batch_sizes)
            del self._batch_sizes[:-1000]
        return embedded

    def take_batch_sizes(self) -> list[int]:
        """The forward-pass sizes the children reported since the last call (then forgotten)."""
        with self._lock:
            taken, self._batch_sizes = self._batch_sizes, []
        return taken

    def pids(self) -> list[int]:
        """The child processes now running (for tests and the benchmark)."""
        with self._lock:
            pool = self._pool
        return [] if pool is None else list(pool._processes)

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
