"""The in-process runner on real stores (embedded index, SQLite jobs, bundled encoder)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from loupe.api.settings import Settings
from loupe.ingest.jobs import Job, JobKind, JobState
from loupe.ingest.sources import plan_source
from loupe.ingest.stores import Stores
from loupe.search.encoders.pool import EncoderPool
from loupe.search.index import Point, VectorIndex
from loupe.workers.runner import InProcessRunner
from tests.workers.conftest import FlakyIndex, image_ids, live_ids, make_settings, write_jpegs


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def stores(settings: Settings, encoders: EncoderPool) -> Iterator[Stores]:
    opened = Stores.open(settings, role="cli", encoders=encoders)
    yield opened
    opened.close()


def bulk_job(stores: Stores, settings: Settings, folder: str) -> Job:
    _, units = plan_source(
        folder,
        roots=settings.ingest_roots,
        blobs=stores.blobs,
        max_bytes=settings.max_upload_bytes,
    )
    return stores.jobs.create(JobKind.BULK, units)


def run(stores: Stores, job: Job, *, chunk_size: int = 8) -> Job:
    runner = InProcessRunner(stores.pipeline, threads=2, chunk_size=chunk_size)
    try:
        runner.submit(job.id, list(range(job.total)))
        assert runner.wait_idle(timeout=120)
    finally:
        runner.close()
    return stores.jobs.get(job.id)


class GatedIndex:
    """The real index; upserts wait until the gate opens."""

    def __init__(self, inner: VectorIndex) -> None:
        self.inner = inner
        self.gate = threading.Event()

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        assert self.gate.wait(timeout=120)
        self.inner.upsert(collection, points)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_processes_images_and_texts(stores: Stores, settings: Settings) -> None:
    folder = settings.ingest_roots[0] / "mixed"
    paths = write_jpegs(folder, 20)
    (folder / "a.txt").write_text("a red bicycle leaning on a wall")
    (folder / "b.txt").write_text("一只猫在睡觉")
    job = run(stores, bulk_job(stores, settings, "mixed"))
    assert (job.state, job.total, job.done, job.failed) == (JobState.SUCCEEDED, 22, 22, 0)
    ids = live_ids(stores.index, settings.collection_alias)
    assert len(ids) == len(set(ids)) == 22
    assert image_ids(paths) <= set(ids)


def test_transient_index_errors_are_retried(stores: Stores, settings: Settings) -> None:
    paths = write_jpegs(settings.ingest_roots[0] / "flaky", 24)
    flaky = FlakyIndex(stores.index, failures=3)
    stores.pipeline.index = flaky
    job = run(stores, bulk_job(stores, settings, "flaky"))
    assert (job.state, job.done, job.failed) == (JobState.SUCCEEDED, 24, 0)
    assert flaky.raised == 3
    assert set(live_ids(stores.index, settings.collection_alias)) == image_ids(paths)


def test_permanent_errors_are_recorded_once(stores: Stores, settings: Settings) -> None:
    folder = settings.ingest_roots[0] / "some-bad"
    write_jpegs(folder, 10)
    for name in ("bad1.jpg", "bad2.jpg", "bad3.jpg"):
        (folder / name).write_bytes(b"this is not a jpeg " * 20)
    counting = FlakyIndex(stores.index, failures=0)
    stores.pipeline.index = counting
    job = run(stores, bulk_job(stores, settings, "some-bad"), chunk_size=8)
    assert (job.state, job.done, job.failed) == (JobState.PARTIAL, 10, 3)
    assert sorted(e.name for e in job.errors) == [
        "some-bad/bad1.jpg",
        "some-bad/bad2.jpg",
        "some-bad/bad3.jpg",
    ]
    assert counting.upserts == 2  # 13 units in chunks of 8: each chunk once, no retry
    assert stores.jobs.queued(job.id) == []


def test_wait_idle_and_close_keep_queued_units(stores: Stores, settings: Settings) -> None:
    paths = write_jpegs(settings.ingest_roots[0] / "gated", 10)
    gated = GatedIndex(stores.index)
    stores.pipeline.index = gated
    job = bulk_job(stores, settings, "gated")
    runner = InProcessRunner(stores.pipeline, threads=1, chunk_size=2)
    runner.submit(job.id, list(range(10)))
    assert runner.wait_idle(timeout=0.2) is False  # one chunk held at the gate, four queued
    closing = threading.Thread(target=runner.close)
    closing.start()
    for _ in range(3000):  # close() drops the queued chunks, then adds one sentinel
        if runner.queue_depth() <= 1:
            break
        closing.join(timeout=0.01)
    gated.gate.set()
    closing.join(timeout=60)
    assert not closing.is_alive()
    stopped = stores.jobs.get(job.id)
    assert (stopped.done, stopped.failed, len(stores.jobs.queued(job.id))) == (2, 0, 8)

    again = InProcessRunner(stores.pipeline, threads=2, chunk_size=2)
    try:
        assert again.resume() == 8
        assert again.wait_idle(timeout=120)
    finally:
        again.close()
    finished = stores.jobs.get(job.id)
    assert (finished.state, finished.done) == (JobState.SUCCEEDED, 10)
    assert set(live_ids(stores.index, settings.collection_alias)) == image_ids(paths)
