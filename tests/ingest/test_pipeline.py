"""``ingest.pipeline.Pipeline.process`` on real stores (embedded index, SQLite jobs, bundled
encoder, in this process): units become points in the live collection, a bad item is recorded
on the job and the rest stored; a cancelled job stores nothing; while a reindex runs, writes go
to the shadow collection too; a reindex job writes only to its target."""

from __future__ import annotations

from pathlib import Path

from loupe.api.settings import Settings
from loupe.ingest.jobs import JobKind, JobState
from loupe.ingest.pipeline import Target
from loupe.ingest.stores import Stores
from tests.ingest.conftest import file_job, ids_in
from tests.workers.conftest import image_ids, write_jpegs


def _shadow(stores: Stores, name: str) -> str:
    encoder = stores.live_encoder
    stores.index.create_collection(
        name, model_id=encoder.model_id, dim=encoder.dim, visual_dim=encoder.visual_dim
    )
    return name


def test_units_become_points_and_a_bad_item_is_recorded(
    stores: Stores, settings: Settings, tmp_path: Path
) -> None:
    paths = write_jpegs(tmp_path / "in", 3)
    broken = tmp_path / "in" / "broken.jpg"
    broken.write_bytes(b"not a jpeg at all")
    job = file_job(stores, [*paths, broken])
    assert stores.pipeline.process(job.id, [0, 1, 2, 3]) == 3
    done = stores.jobs.get(job.id)
    assert (done.state, done.done, done.failed) == (JobState.PARTIAL, 3, 1)
    assert [e.name for e in done.errors] == ["broken.jpg"]
    live = stores.index.resolve_alias(settings.collection_alias)
    assert live is not None and ids_in(stores, live) == image_ids(paths)
    assert stores.pipeline.process(job.id, [0, 1, 2]) == 3  # a redelivery overwrites
    assert stores.index.count(live) == 3


def test_a_cancelled_job_stores_nothing(stores: Stores, tmp_path: Path) -> None:
    job = file_job(stores, write_jpegs(tmp_path / "in", 2))
    stores.jobs.set_state(job.id, JobState.CANCELLED)
    assert stores.pipeline.process(job.id, [0, 1]) == 0
    assert stores.index.count(stores.pipeline.write_targets()[0].collection) == 0
    assert stores.jobs.get(job.id).done == 0


def test_writes_reach_the_shadow_collection_while_a_reindex_runs(
    stores: Stores, settings: Settings, tmp_path: Path
) -> None:
    pipeline = stores.pipeline
    live = stores.index.resolve_alias(settings.collection_alias)
    assert live is not None
    stores.index.set_alias(pipeline.next_alias, live)  # both aliases name one collection
    assert pipeline.write_targets() == [Target(live, stores.live_encoder.model_id)]
    stores.index.set_alias(pipeline.next_alias, _shadow(stores, "shadow"))
    assert [t.collection for t in pipeline.write_targets()] == [live, "shadow"]
    paths = write_jpegs(tmp_path / "in", 2)
    pipeline.process(file_job(stores, paths).id, [0, 1])
    assert ids_in(stores, live) == ids_in(stores, "shadow") == image_ids(paths)


def test_a_reindex_job_writes_only_to_its_target(
    stores: Stores, settings: Settings, tmp_path: Path
) -> None:
    target = _shadow(stores, "target")
    paths = write_jpegs(tmp_path / "in", 2)
    job = file_job(stores, paths, JobKind.REINDEX, target=target)
    assert stores.pipeline.process(job.id, [0, 1]) == 2
    assert ids_in(stores, target) == image_ids(paths)
    live = stores.index.resolve_alias(settings.collection_alias)
    assert live is not None and stores.index.count(live) == 0
