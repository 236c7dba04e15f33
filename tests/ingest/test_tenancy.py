"""``ingest.tenancy``: a caller with a tenant sees only what carries it (another tenant's job
is NotFound, as an unknown one); a caller without one sees everything; a blob is in use while
any item of any tenant, in any collection, points at it."""

from __future__ import annotations

import numpy as np
import pytest

from loupe.ingest.jobs import Job, JobKind, JobState
from loupe.ingest.tenancy import blob_in_use, job_meta, own_job, owns_item, owns_job
from loupe.search.errors import NotFound
from loupe.search.index import SEMANTIC, TENANT_FIELD, Hit, Point
from loupe.search.index.memory_store import NumpyIndex


def _job(meta: dict[str, str]) -> Job:
    return Job("j1", JobKind.UPLOAD, JobState.QUEUED, 1, 0, 0, 0.0, None, None, dict(meta))


def test_items_and_jobs_belong_to_their_tenant() -> None:
    mine = Hit("a", 1.0, {TENANT_FIELD: "t1"})
    untenanted = Hit("b", 1.0, {})
    assert owns_item(mine, "t1") and not owns_item(mine, "t2") and owns_item(mine, None)
    assert not owns_item(untenanted, "t1") and owns_item(untenanted, None)
    job = _job(job_meta("t1"))
    assert owns_job(job, "t1") and owns_job(job, None) and not owns_job(job, "t2")
    assert own_job(job, "t1") is job
    with pytest.raises(NotFound, match="no job j1"):
        own_job(job, "t2")
    assert job_meta(None) == {}


def test_a_blob_is_in_use_while_any_collection_points_at_it() -> None:
    index = NumpyIndex()
    vector = {SEMANTIC: np.asarray([1.0, 0.0], dtype=np.float32)}
    for name in ("live", "old"):
        index.create_collection(name, model_id="m", dim=2, visual_dim=0)
    index.upsert("old", [Point("a", vector, {"sha256": "f" * 64, TENANT_FIELD: "t2"})])
    assert blob_in_use(index, "f" * 64)
    assert not blob_in_use(index, "e" * 64)
    index.delete("old", ["a"])
    assert not blob_in_use(index, "f" * 64)
