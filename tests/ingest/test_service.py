"""``ingest.service.IngestService`` on real stores with the in-process runner: a job cancelled
while it runs stops (its queued units are never stored) and stays cancelled; retry and cancel
of a finished or cancelled job are refused or change nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loupe.api.settings import Settings
from loupe.ingest.jobs import JobState
from loupe.ingest.service import IngestService
from loupe.ingest.stores import Stores
from loupe.search.encoders.pool import EncoderPool
from loupe.search.errors import Conflict
from loupe.workers.runner import InProcessRunner
from tests.workers.conftest import make_settings, write_jpegs
from tests.workers.test_runner import GatedIndex


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def gated(settings: Settings, encoders: EncoderPool) -> Iterator[tuple[IngestService, GatedIndex]]:
    """The service over stores whose index holds every upsert until the gate opens."""
    stores = Stores.open(settings, role="cli", encoders=encoders)
    gate = GatedIndex(stores.index)
    stores.pipeline.index = gate
    runner = InProcessRunner(stores.pipeline, threads=1, chunk_size=2)
    service = IngestService(stores, dispatcher=runner, settings=settings)
    try:
        yield service, gate
    finally:
        gate.gate.set()
        service.close()


def test_cancelling_a_running_job_stops_it(
    gated: tuple[IngestService, GatedIndex], settings: Settings
) -> None:
    service, gate = gated
    write_jpegs(settings.ingest_roots[0] / "many", 10)
    job = service.bulk("many", tags=[], metadata={})
    deadline = time.monotonic() + 60
    while service.job(job.id).state is not JobState.RUNNING:  # the first chunk is at the gate
        assert time.monotonic() < deadline
        time.sleep(0.01)
    cancelled, changed = service.cancel(job.id)
    assert changed and cancelled.state is JobState.CANCELLED
    gate.gate.set()
    runner = service.dispatcher
    assert isinstance(runner, InProcessRunner) and runner.wait_idle(timeout=120)
    final = service.job(job.id)
    assert final.state is JobState.CANCELLED  # the chunk in flight finishing does not undo it
    assert final.done == 2 and final.total == 10  # only the chunk that was already embedding
    assert service.live_points() == 2
    with pytest.raises(Conflict, match="cancelled job cannot be retried"):
        service.retry(job.id)
    again, changed = service.cancel(job.id)
    assert not changed and again.state is JobState.CANCELLED
