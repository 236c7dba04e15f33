"""``ingest.pipeline.Pipeline.process`` on real stores (embedded index, SQLite jobs, bundled
encoder, in this process): units become points in the live collection, a bad item is recorded
on the job and the rest stored; a cancelled job stores nothing; while a reindex runs, writes go
to the shadow collection too; a reindex job writes only to its target."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loupe.api.settings import Settings
from loupe.ingest.jobs import Job, JobKind, JobState, Unit
from loupe.ingest.pipeline import Target
from loupe.ingest.stores import Stores
from loupe.search.encoders.pool import EncoderPool
from tests.workers.conftest import image_ids, make_settings, write_jpegs


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", enrichers=[])


@pytest.fixture
def stores(settings: Settings, encoders: EncoderPool) -> Iterator[Stores]:
    opened = Stores.open(settings, role="cli", encoders=encoders)
    yield opened
    opened.close()


def _job(stores: Stores, paths: list[Path], kind: JobKind = JobKind.BULK, **meta: str) -> Job:
    units = [Unit(i, p.name, {"kind": "file", "path": str(p)}) for i, p in enumerate(paths)]
    return stores.jobs.create(kind, units, meta=meta)


def _shadow(stores: Stores, name: str) -> str:
    encoder = stores.live_encoder
    stores.index.create_collection(
        name, model_id=encoder.model_id, dim=encoder.dim, visual_dim=encoder.visual_dim
    )
    return name


def _ids(stores: Stores, collection: str) -> set[str]:
    hits, _ = stores.index.scroll(collection, limit=100)
    return {h.id for h in hits}


def test_units_become_points_and_a_bad_item_is_recorded(
    stores: Stores, settings: Settings, tmp_path: Path
) -> None:
    paths = write_jpegs(tmp_path / "in", 3)
    broken = tmp_path / "in" / "broken.jpg"
    broken.write_bytes(b"not a jpeg at all")
    job = _job(stores, [*paths, broken])
    assert stores.pipeline.process(job.id, [0, 1, 2, 3]) == 3
    done = stores.jobs.get(job.id)
    assert (done.state, done.done, done.failed) == (JobState.PARTIAL, 3, 1)
    assert [e.name for e in done.errors] == ["broken.jpg"]
    live = stores.index.resolve_alias(settings.collection_alias)
    assert live is not None and _ids(stores, live) == image_ids(paths)
    assert stores.pipeline.process(job.id, [0, 1, 2]) == 3  # a redelivery overwrites
    assert stores.index.count(live) == 3


def test_a_cancelled_job_stores_nothing(stores: Stores, tmp_path: Path) -> None:
    job = _job(stores, write_jpegs(tmp_path / "in", 2))
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
    pipeline.process(_job(stores, paths).id, [0, 1])
    assert _ids(stores, live) == _ids(stores, "shadow") == image_ids(paths)


def test_a_reindex_job_writes_only_to_its_target(
    stores: Stores, settings: Settings, tmp_path: Path
) -> None:
    target = _shadow(stores, "target")
    paths = write_jpegs(tmp_path / "in", 2)
    job = _job(stores, paths, JobKind.REINDEX, target=target)
    assert stores.pipeline.process(job.id, [0, 1]) == 2
    assert _ids(stores, target) == image_ids(paths)
    live = stores.index.resolve_alias(settings.collection_alias)
    assert live is not None and stores.index.count(live) == 0
