"""Jobs: a set of work units (one per item) and their progress, kept in a durable store.

Two stores share one contract and one test body: ``SqliteJobStore`` (embedded mode, a file under
``LOUPE_DATA_DIR``) and ``RedisJobStore`` (when a broker is configured). Marking a unit done or
failed is idempotent (a redelivered task marks it again harmlessly), so counts are exact.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from loupe.search.errors import Conflict


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobKind(StrEnum):
    UPLOAD = "upload"
    BULK = "bulk"
    REINDEX = "reindex"
    ENRICH = "enrich"  # look at stored images again with the enrichers switched on now


class UnitStatus(StrEnum):
    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"


FINAL_STATES = frozenset(
    {JobState.SUCCEEDED, JobState.PARTIAL, JobState.FAILED, JobState.CANCELLED}
)
MAX_ERRORS_SHOWN = 200


@dataclass(frozen=True, slots=True)
class Unit:
    """One item of work: ``ref`` says where its content is (see ingest.units)."""

    seq: int
    name: str
    ref: dict[str, Any]


@dataclass(frozen=True, slots=True)
class UnitError:
    seq: int
    name: str
    message: str


@dataclass(slots=True)
class Job:
    id: str
    kind: JobKind
    state: JobState
    total: int
    done: int
    failed: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    meta: dict[str, Any] = field(default_factory=dict)
    errors: list[UnitError] = field(default_factory=list)

    @property
    def pending(self) -> int:
        return max(self.total - self.done - self.failed, 0)

    @property
    def rate(self) -> float | None:
        """Units finished per second since the job started."""
        if self.started_at is None:
            return None
        end = self.finished_at or time.time()
        elapsed = max(end - self.started_at, 1e-6)
        finished = self.done + self.failed
        return finished / elapsed if finished else 0.0

    @property
    def eta_s(self) -> float | None:
        rate = self.rate
        if self.state in FINAL_STATES:
            return 0.0
        if not rate:
            return None
        return self.pending / rate


def new_job_id() -> str:
    return uuid.uuid4().hex


def derive_state(
    *,
    stored: JobState,
    total: int,
    done: int,
    failed: int,
    started: bool,
    kind: JobKind = JobKind.BULK,
) -> JobState:
    """The state shown to users: stored decisions win, else counts decide. A reindex stays
    running after its last unit until its final step (catch-up, canary, swap) decides."""
    if stored in (JobState.CANCELLED, JobState.FAILED, JobState.SUCCEEDED):
        return stored
    if done + failed < total or kind is JobKind.REINDEX:
        return JobState.RUNNING if started or done or failed else JobState.QUEUED
    if failed == 0:
        return JobState.SUCCEEDED
    if done == 0:
        return JobState.FAILED
    return JobState.PARTIAL


class JobStore(Protocol):
    """Durable job records. All methods are thread-safe; NotFound for unknown ids."""

    def create(
        self, kind: JobKind, units: Sequence[Unit], *, meta: Mapping[str, Any] | None = None
    ) -> Job: ...

    def get(self, job_id: str) -> Job: ...

    def recent(self, *, limit: int = 50, tenant: str | None = None) -> list[Job]:
        """Newest first; with a ``tenant``, only the jobs created with ``meta["tenant"]`` set
        to it."""

    def units(self, job_id: str, seqs: Sequence[int]) -> list[Unit]: ...

    def queued(self, job_id: str) -> list[int]:
        """Seqs of units not yet done or failed."""

    def mark_started(self, job_id: str) -> None: ...

    def mark(
        self, job_id: str, *, done: Sequence[int] = (), failed: Mapping[int, str] | None = None
    ) -> None:
        """Record outcomes; a unit marked done stays done, failures can be retried."""

    def retry_failed(self, job_id: str) -> list[int]:
        """Put failed units back in the queue (state recomputed); returns their seqs."""

    def set_state(self, job_id: str, state: JobState, *, reason: str | None = None) -> None:
        """Store a decision (cancelled, failed by a check, running again after retry)."""

    def update_meta(self, job_id: str, meta: Mapping[str, Any]) -> None: ...

    def active(self) -> list[str]:
        """Ids of jobs not in a final state (to resume after a restart)."""

    def claim(self, job_id: str, step: str) -> bool:
        """True for exactly one caller per (job, step), across processes: run-once steps."""

    def ping(self) -> None:
        """Raise Unavailable when the store cannot be reached."""

    def close(self) -> None: ...


RESUMABLE = frozenset({JobState.CANCELLED, JobState.PARTIAL, JobState.FAILED})


def resume(jobs: JobStore, job_id: str) -> tuple[Job, list[int]]:
    """Take up a cancelled, partial or failed upload/bulk/enrich job again: its failed units
    are queued again, the job runs again, and the units to hand to the workers are returned
    (those never processed and those that failed). Units already done stay done.

    Conflict for a reindex (its dual writes stopped at the cancel: start a new reindex) and for
    a job that is still running or has succeeded."""
    job = jobs.get(job_id)
    if job.kind is JobKind.REINDEX:
        raise Conflict("a reindex cannot be resumed: start a new one")
    if job.state not in RESUMABLE:
        raise Conflict(
            f"the job is {job.state.value}: only a cancelled, partial or failed job can be resumed"
        )
    jobs.retry_failed(job_id)
    seqs = jobs.queued(job_id)
    if seqs:
        jobs.set_state(job_id, JobState.RUNNING)
    return jobs.get(job_id), seqs
