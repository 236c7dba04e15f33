"""``ingest.reindex`` on real stores (embedded index, SQLite jobs, bundled encoder, in this
process): start makes a shadow collection and a unit per live item; finalize catches up what
the shadow lacks, checks it and swaps; a shadow that fails its check is dropped from the write
path and the old collection keeps serving; rollback goes back once; the live and the shadow
collections cannot be dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from loupe.api.settings import Settings
from loupe.ingest import reindex
from loupe.ingest.jobs import JobState
from loupe.ingest.stores import Stores
from loupe.search.errors import Conflict, NotFound
from loupe.search.index import Point
from tests.ingest.conftest import file_job, ids_in
from tests.search.test_index import pid
from tests.workers.conftest import write_jpegs


def _library(stores: Stores, tmp_path: Path, count: int = 4) -> str:
    """The live collection holding ``count`` photos; its name."""
    paths = write_jpegs(tmp_path / "in", count)
    stores.pipeline.process(file_job(stores, paths).id, list(range(count)))
    live = stores.index.resolve_alias(stores.pipeline.alias)
    assert live is not None and stores.index.count(live) == count
    return live


def _start(stores: Stores, live: str, target: str = "shadow") -> reindex.Started:
    return reindex.start(stores.pipeline, model_spec="bundled", collection=target, source=live)


def test_a_reindex_re_embeds_catches_up_swaps_and_rolls_back(
    stores: Stores, settings: Settings, tmp_path: Path
) -> None:
    live = _library(stores, tmp_path)
    started = _start(stores, live)
    job = started.job
    assert (job.total, job.meta["target"], job.meta["source"]) == (4, "shadow", live)
    assert reindex.live_and_next(stores.pipeline) == (live, "shadow")
    with pytest.raises(Conflict, match="already running"):
        _start(stores, live, "another")
    stores.pipeline.process(job.id, [0, 1, 2])  # one unit left: finalize catches it up
    assert reindex.finalize(stores.pipeline, job.id)
    assert not reindex.finalize(stores.pipeline, job.id)  # once per job
    done = stores.jobs.get(job.id)
    assert done.state is JobState.SUCCEEDED
    assert (done.meta["previous"], done.meta["caught_up"]) == (live, 1)
    assert reindex.live_and_next(stores.pipeline) == ("shadow", None)
    assert ids_in(stores, "shadow") == ids_in(stores, live)
    assert reindex.rollback(stores.pipeline) == ("shadow", live)
    assert reindex.live_and_next(stores.pipeline) == (live, None)
    assert stores.jobs.get(job.id).meta["rolled_back"] is True
    with pytest.raises(Conflict, match="no earlier collection"):
        reindex.rollback(stores.pipeline)


def test_a_shadow_that_fails_its_check_is_left_and_the_live_one_serves(
    stores: Stores, tmp_path: Path
) -> None:
    live = _library(stores, tmp_path)
    # One live point names an original that is intact but no image: it cannot be re-embedded.
    item = stores.index.retrieve(live, sorted(ids_in(stores, live))[:1], with_vectors=True)[0]
    assert item.vectors is not None
    wrong = {**item.payload, "sha256": stores.blobs.put(b"not an image")}
    stores.index.upsert(live, [Point(item.id, item.vectors, wrong)])
    job = _start(stores, live).job
    stores.pipeline.process(job.id, list(range(job.total)))
    assert not reindex.finalize(stores.pipeline, job.id)
    failed = stores.jobs.get(job.id)
    assert failed.state is JobState.FAILED
    assert failed.meta["reason"] == "canary failed: 1 items could not be re-embedded"
    assert reindex.live_and_next(stores.pipeline) == (live, None)  # no more dual writes


def test_a_shadow_whose_count_differs_fails_its_check(stores: Stores, tmp_path: Path) -> None:
    live = _library(stores, tmp_path, 2)
    job = _start(stores, live).job
    stores.pipeline.process(job.id, list(range(job.total)))
    stray = stores.index.retrieve(live, sorted(ids_in(stores, live))[:1], with_vectors=True)[0]
    assert stray.vectors is not None
    stores.index.upsert("shadow", [Point(pid(999), stray.vectors, stray.payload)])
    assert not reindex.finalize(stores.pipeline, job.id)
    reason = stores.jobs.get(job.id).meta["reason"]
    assert reason == "canary failed: counts differ: live 2 (0 skipped), new 3"
    assert reindex.live_and_next(stores.pipeline) == (live, None)


def test_an_empty_library_swaps_at_once_and_a_missing_original_is_skipped(
    stores: Stores, tmp_path: Path
) -> None:
    empty = stores.index.resolve_alias(stores.pipeline.alias)
    assert empty is not None
    started = _start(stores, empty, "first")
    assert started.job.total == 0 and stores.jobs.get(started.job.id).state is JobState.SUCCEEDED
    assert reindex.live_and_next(stores.pipeline) == ("first", None)
    live = _library(stores, tmp_path, 3)
    gone = sorted(ids_in(stores, live))[0]
    blob = stores.index.retrieve(live, [gone])[0].payload["sha256"]
    stores.blobs.delete(blob)  # lost original: nobody can re-embed it
    job = _start(stores, live, "second").job
    stores.pipeline.process(job.id, list(range(job.total)))
    assert reindex.finalize(stores.pipeline, job.id)
    assert stores.jobs.get(job.id).meta["skipped_items"] == [gone]
    assert ids_in(stores, "second") == ids_in(stores, live) - {gone}


def test_the_live_and_the_shadow_collections_cannot_be_dropped(
    stores: Stores, tmp_path: Path
) -> None:
    live = _library(stores, tmp_path, 1)
    _start(stores, live)
    for name in (live, "shadow"):
        with pytest.raises(Conflict, match="in use"):
            reindex.droppable(stores.pipeline, name)
    with pytest.raises(NotFound):
        reindex.droppable(stores.pipeline, "nothing")
