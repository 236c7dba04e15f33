"""``loupe bench ingest``: the raw baseline runs with the same parallelism as end to end.

Observed, not timed: every call of the encoder's ``prepare_images`` (the per-batch CPU step
that both the raw baseline and the pipeline run on their worker threads) is recorded with its
thread, and waits at a rendezvous until ``runner_threads`` calls of its pool of threads are in
flight together. A pool whose calls can run together meets there at once; a serial one never
does (its wait gives up after ``MEET_S``) and shows one call in flight."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from loupe.api.settings import Settings
from loupe.bench.ingest import IngestParams, run_ingest
from loupe.search.encoders.pool import EncoderPool

THREADS = 3
MEET_S = 30.0  # a bound on the rendezvous, never reached when the calls can overlap


def pool_of(thread: threading.Thread) -> str:
    """The pool a thread belongs to: one ``ThreadPoolExecutor`` or the runner's threads."""
    name = thread.name
    if name.startswith("ThreadPoolExecutor-"):
        return name.rsplit("_", 1)[0]
    if name.startswith("loupe-runner-"):
        return "loupe-runner"
    return name


@dataclass
class Pool:
    meet: threading.Barrier
    threads: set[int] = field(default_factory=set)
    calls: int = 0
    in_flight: int = 0
    most_in_flight: int = 0


class Overlap:
    """Wraps ``prepare_images``: per pool of threads, the threads that called it and the most
    calls in flight at once; each call first waits for ``parties`` calls of its pool."""

    def __init__(self, prepare: Callable[[Sequence[Any]], Any], parties: int) -> None:
        self._prepare = prepare
        self._parties = parties
        self._lock = threading.Lock()
        self.pools: dict[str, Pool] = {}

    def __call__(self, images: Sequence[Any]) -> Any:
        with self._lock:
            name = pool_of(threading.current_thread())
            pool = self.pools.setdefault(name, Pool(threading.Barrier(self._parties, None, MEET_S)))
            pool.threads.add(threading.get_ident())
            pool.calls += 1
            pool.in_flight += 1
            pool.most_in_flight = max(pool.most_in_flight, pool.in_flight)
        try:
            # BrokenBarrierError: the others never came; it ran alone, as ``most_in_flight`` says
            with contextlib.suppress(threading.BrokenBarrierError):
                pool.meet.wait()
            return self._prepare(images)
        finally:
            with self._lock:
                pool.in_flight -= 1


@pytest.fixture
def overlap(encoders: EncoderPool, monkeypatch: pytest.MonkeyPatch) -> Overlap:
    encoder = encoders.default
    spy = Overlap(encoder.prepare_images, THREADS)
    monkeypatch.setattr(encoder, "prepare_images", spy)
    return spy


def test_raw_baseline_runs_on_as_many_threads_at_once_as_end_to_end(
    tmp_path: Path, encoders: EncoderPool, overlap: Overlap
) -> None:
    batch = 2
    base = Settings(data_dir=tmp_path / "data", encode_batch_size=batch, enrichers=[])
    params = IngestParams(
        images=THREADS * batch,  # THREADS batches: one per thread in every phase
        runs=1,
        sizes=("64x48",),
        celery=False,
        runner_threads=THREADS,
    )
    report = run_ingest(base, params, pool=encoders)
    assert {"64x48.raw", "64x48.e2e"} <= set(report.metrics)

    pools = overlap.pools
    assert "loupe-runner" in pools, pools  # end to end: the runner's threads
    raw = [name for name in pools if name != "loupe-runner"]
    assert raw, pools  # the raw baseline (warm-up and measured run)
    for name, pool in pools.items():
        seen = (pool.most_in_flight, len(pool.threads))
        assert seen == (THREADS, THREADS), f"{name}: {pool.calls} calls, (in flight, threads)"
