"""``ingest.work.process_units``: the units of a job are stored; the last units of a reindex
job also finish it (the swap), earlier ones do not, and a cancelled reindex is never swapped."""

from __future__ import annotations

from pathlib import Path

from loupe.ingest import reindex
from loupe.ingest.jobs import JobState
from loupe.ingest.stores import Stores
from loupe.ingest.work import process_units
from tests.ingest.conftest import file_job
from tests.workers.conftest import write_jpegs


def _reindex_of_two(stores: Stores, tmp_path: Path) -> tuple[str, str]:
    """(the live collection, the job id of a reindex of its two photos)."""
    job = file_job(stores, write_jpegs(tmp_path / "in", 2))
    assert process_units(stores.pipeline, job.id, [0, 1]) == 2
    assert stores.jobs.get(job.id).state is JobState.SUCCEEDED
    live = stores.index.resolve_alias(stores.pipeline.alias)
    assert live is not None
    started = reindex.start(stores.pipeline, model_spec="bundled", collection="new", source=live)
    return live, started.job.id


def test_the_last_units_of_a_reindex_swap(stores: Stores, tmp_path: Path) -> None:
    live, job_id = _reindex_of_two(stores, tmp_path)
    process_units(stores.pipeline, job_id, [0])
    assert reindex.live_and_next(stores.pipeline) == (live, "new")  # one unit still queued
    process_units(stores.pipeline, job_id, [1])
    assert reindex.live_and_next(stores.pipeline) == ("new", None)
    assert stores.jobs.get(job_id).state is JobState.SUCCEEDED


def test_a_reindex_cancelled_while_its_last_chunk_ran_is_not_swapped(
    stores: Stores, tmp_path: Path
) -> None:
    live, job_id = _reindex_of_two(stores, tmp_path)
    # What process_units finds after a last chunk that was embedding when the job was
    # cancelled: no unit queued any more, and the job cancelled.
    stores.pipeline.process(job_id, [0, 1])
    stores.jobs.set_state(job_id, JobState.CANCELLED)
    assert process_units(stores.pipeline, job_id, []) == 0
    assert reindex.live_and_next(stores.pipeline)[0] == live
    assert stores.jobs.get(job_id).state is JobState.CANCELLED
