"""The in-process runner on real stores (embedded index, SQLite jobs, bundled encoder)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from loupe.ingest.jobs import Job, JobKind, JobState
from loupe.ingest.models import EncoderPool
from loupe.ingest.sources import plan_source
from loupe.search.index import Point, VectorIndex
from loupe.search.settings import Settings
from loupe.workers.runner import InProcessRunner
from loupe.workers.runtime import Runtime
from tests.workers.conftest import FlakyIndex, image_ids, live_ids, make_settings, write_jpegs


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def runtime(settings: Settings, encoders: EncoderPool) -> Iterator[Runtime]:
    built = Runtime.build(settings, role="cli", encoders=encoders)
    yield built
    built.close()


def bulk_job(runtime: Runtime, folder: str) -> Job:
    _, units = plan_source(
        folder,
        roots=runtime.settings.ingest_roots,
        blobs=runtime.blobs,
        max_bytes=runtime.settings.max_upload_bytes,
    )
    return runtime.jobs.create(JobKind.BULK, units)


def run(runtime: Runtime, job: Job, *, chunk_size: int = 8) -> Job:
    runner = InProcessRunner(runtime.pipeline, threads=2, chunk_size=chunk_size)
    try:
        runner.submit(job.id, list(range(job.total)))
        assert runner.wait_idle(timeout=120)
    finally:
        runner.close()
    return runtime.jobs.get(job.id)


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


def test_processes_images_and_texts(runtime: Runtime, settings: Settings) -> None:
    folder = settings.ingest_roots[0] / "mixed"
    paths = write_jpegs(folder, 20)
    (folder / "a.txt").write_text("a red bicycle leaning on a wall")
    (folder / "b.txt").write_text("一只猫在睡觉")
    job = run(runtime, bulk_job(runtime, "mixed"))
    assert (job.state, job.total, job.done, job.failed) == (JobState.SUCCEEDED, 22, 22, 0)
    ids = live_ids(runtime.index, settings.collection_alias)
    assert len(ids) == len(set(ids)) == 22
    assert image_ids(paths) <= set(ids)


def test_transient_index_errors_are_retried(runtime: Runtime, settings: Settings) -> None:
    paths = write_jpegs(settings.ingest_roots[0] / "flaky", 24)
    flaky = FlakyIndex(runtime.index, failures=3)
    runtime.pipeline.index = flaky
    job = run(runtime, bulk_job(runtime, "flaky"))
    assert (job.state, job.done, job.failed) == (JobState.SUCCEEDED, 24, 0)
    assert flaky.raised == 3
    assert set(live_ids(runtime.index, settings.collection_alias)) == image_ids(paths)


def test_permanent_errors_are_recorded_once(runtime: Runtime, settings: Settings) -> None:
    folder = settings.ingest_roots[0] / "some-bad"
    write_jpegs(folder, 10)
    for name in ("bad1.jpg", "bad2.jpg", "bad3.jpg"):
        (folder / name).write_bytes(b"this is not a jpeg " * 20)
    counting = FlakyIndex(runtime.index, failures=0)
    runtime.pipeline.index = counting
    job = run(runtime, bulk_job(runtime, "some-bad"), chunk_size=8)
    assert (job.state, job.done, job.failed) == (JobState.PARTIAL, 10, 3)
    assert sorted(e.name for e in job.errors) == [
        "some-bad/bad1.jpg",
        "some-bad/bad2.jpg",
        "some-bad/bad3.jpg",
    ]
    assert counting.upserts == 2  # 13 units in chunks of 8: each chunk once, no retry
    assert runtime.jobs.queued(job.id) == []


def test_wait_idle_and_close_keep_queued_units(runtime: Runtime, settings: Settings) -> None:
    paths = write_jpegs(settings.ingest_roots[0] / "gated", 10)
    gated = GatedIndex(runtime.index)
    runtime.pipeline.index = gated
    job = bulk_job(runtime, "gated")
    runner = InProcessRunner(runtime.pipeline, threads=1, chunk_size=2)
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
    stopped = runtime.jobs.get(job.id)
    assert (stopped.done, stopped.failed, len(runtime.jobs.queued(job.id))) == (2, 0, 8)

    again = InProcessRunner(runtime.pipeline, threads=2, chunk_size=2)
    try:
        assert again.resume() == 8
        assert again.wait_idle(timeout=120)
    finally:
        again.close()
    finished = runtime.jobs.get(job.id)
    assert (finished.state, finished.done) == (JobState.SUCCEEDED, 10)
    assert set(live_ids(runtime.index, settings.collection_alias)) == image_ids(paths)
