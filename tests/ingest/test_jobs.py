"""One test body for both job stores: SQLite (embedded) and Redis (with a broker)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loupe.ingest.jobs import JobKind, JobState, JobStore, Unit, resume
from loupe.ingest.jobs_redis import RedisJobStore
from loupe.ingest.jobs_sqlite import SqliteJobStore
from loupe.search.errors import Conflict, NotFound


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobStore]:
    if request.param == "sqlite":
        made: JobStore = SqliteJobStore(tmp_path / "jobs.sqlite3")
    else:
        made = RedisJobStore(request.getfixturevalue("redis_url"))
    yield made
    made.close()


def _units(n: int) -> list[Unit]:
    return [
        Unit(seq=i, name=f"f{i}.jpg", ref={"kind": "file", "path": f"/x/{i}"}) for i in range(n)
    ]


def test_counts_and_states(store: JobStore) -> None:
    job = store.create(JobKind.BULK, _units(5), meta={"source": "x"})
    assert (job.state, job.total, job.done, job.failed) == (JobState.QUEUED, 5, 0, 0)
    store.mark_started(job.id)
    store.mark(job.id, done=[0, 1])
    assert store.get(job.id).state is JobState.RUNNING
    assert store.queued(job.id) == [2, 3, 4]
    store.mark(job.id, done=[2, 3], failed={4: "corrupt"})
    got = store.get(job.id)
    assert (got.state, got.done, got.failed) == (JobState.PARTIAL, 4, 1)
    assert [(e.seq, e.name, e.message) for e in got.errors] == [(4, "f4.jpg", "corrupt")]
    assert got.finished_at is not None and got.rate is not None and got.eta_s == 0.0


def test_marking_twice_is_idempotent_and_done_wins(store: JobStore) -> None:
    job = store.create(JobKind.UPLOAD, _units(3))
    store.mark(job.id, done=[0, 1])
    store.mark(job.id, done=[0, 1])
    store.mark(job.id, failed={0: "late failure of a redelivered task"})
    got = store.get(job.id)
    assert (got.done, got.failed) == (2, 0)


def test_retry_requeues_only_failed(store: JobStore) -> None:
    job = store.create(JobKind.BULK, _units(4))
    store.mark(job.id, done=[0, 2], failed={1: "bad", 3: "bad"})
    assert store.get(job.id).state is JobState.PARTIAL
    assert store.retry_failed(job.id) == [1, 3]
    assert store.queued(job.id) == [1, 3]
    assert store.get(job.id).state is JobState.RUNNING
    store.mark(job.id, done=[1, 3])
    assert store.get(job.id).state is JobState.SUCCEEDED


def test_all_failed_is_failed_and_cancel_sticks(store: JobStore) -> None:
    job = store.create(JobKind.BULK, _units(2))
    store.mark(job.id, failed={0: "x", 1: "y"})
    assert store.get(job.id).state is JobState.FAILED
    other = store.create(JobKind.BULK, _units(2))
    store.set_state(other.id, JobState.CANCELLED)
    assert store.get(other.id).state is JobState.CANCELLED
    assert other.id not in store.active()


def test_units_listing_and_active(store: JobStore) -> None:
    job = store.create(JobKind.BULK, _units(3))
    assert [u.ref["path"] for u in store.units(job.id, [2, 0])] == ["/x/0", "/x/2"]
    assert job.id in store.active()
    assert store.recent()[0].id == job.id
    store.update_meta(job.id, {"target": "c1"})
    assert store.get(job.id).meta == {"target": "c1"}


def test_unknown_job(store: JobStore) -> None:
    with pytest.raises(NotFound):
        store.get("nope")


def test_sqlite_survives_reopen(tmp_path: Path) -> None:
    first = SqliteJobStore(tmp_path / "j.sqlite3")
    job = first.create(JobKind.BULK, _units(3))
    first.mark(job.id, done=[0])
    first.close()
    second = SqliteJobStore(tmp_path / "j.sqlite3")
    assert second.queued(job.id) == [1, 2]
    assert second.active() == [job.id]
    second.close()


def test_claim_is_granted_once(store: JobStore) -> None:
    job = store.create(JobKind.REINDEX, _units(1))
    assert store.claim(job.id, "finalize") is True
    assert store.claim(job.id, "finalize") is False
    assert store.claim(job.id, "other") is True


def test_recent_jobs_of_one_tenant(store: JobStore) -> None:
    made = [
        store.create(JobKind.UPLOAD, _units(1), meta={"tenant": tenant} if tenant else None)
        for tenant in ("alpha", "beta", None, "alpha")
    ]
    assert [j.id for j in store.recent(tenant="alpha")] == [made[3].id, made[0].id]
    assert [j.id for j in store.recent(tenant="beta")] == [made[1].id]
    assert store.recent(tenant="gamma") == []
    assert [j.id for j in store.recent(limit=1, tenant="alpha")] == [made[3].id]
    assert {j.id for j in store.recent()} == {j.id for j in made}


def test_a_cancelled_job_resumes_with_what_it_left(store: JobStore) -> None:
    job = store.create(JobKind.UPLOAD, _units(5))
    store.mark(job.id, done=[0, 1], failed={2: "bad"})
    store.set_state(job.id, JobState.CANCELLED)
    cancelled = store.get(job.id)
    assert (cancelled.done, cancelled.failed, cancelled.pending) == (2, 1, 2)
    resumed, seqs = resume(store, job.id)
    assert seqs == [2, 3, 4]  # the failed unit and the two never processed; done stay done
    assert resumed.state is JobState.RUNNING
    assert resumed.finished_at is None
    store.mark(job.id, done=seqs, failed={})
    assert store.get(job.id).state is JobState.SUCCEEDED


@pytest.mark.parametrize("kind", [JobKind.REINDEX, JobKind.UPLOAD])
def test_only_a_stopped_job_that_is_not_a_reindex_resumes(store: JobStore, kind: JobKind) -> None:
    job = store.create(kind, _units(2))
    if kind is JobKind.REINDEX:
        store.set_state(job.id, JobState.CANCELLED)
    with pytest.raises(Conflict):
        resume(store, job.id)  # a reindex, or an upload still queued
