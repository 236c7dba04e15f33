"""Job records in a small SQLite file (embedded mode): durable across API restarts. The file
itself (schema, opening, recovery, errors) is ``jobs_sqlite_file``."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loupe.ingest.jobs import (
    FINAL_STATES,
    MAX_ERRORS_SHOWN,
    Job,
    JobKind,
    JobState,
    Unit,
    UnitError,
    UnitStatus,
    derive_state,
    new_job_id,
)
from loupe.ingest.jobs_sqlite_file import mapped_errors, open_database
from loupe.search.errors import NotFound


class SqliteJobStore:
    def __init__(self, path: Path) -> None:
        self._lock = threading.RLock()
        self._db = open_database(path)

    def _q(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock, mapped_errors():
            return self._db.execute(sql, args).fetchall()

    def create(
        self, kind: JobKind, units: Sequence[Unit], *, meta: Mapping[str, Any] | None = None
    ) -> Job:
        job_id = new_job_id()
        with self._lock, mapped_errors():
            self._db.execute("BEGIN")
            try:
                self._db.execute(
                    "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, NULL, NULL, ?)",
                    (
                        job_id,
                        kind.value,
                        JobState.QUEUED.value,
                        len(units),
                        time.time(),
                        json.dumps(dict(meta or {})),
                    ),
                )
                self._db.executemany(
                    "INSERT INTO units VALUES (?, ?, ?, ?, ?, NULL)",
                    [
                        (job_id, u.seq, u.name, json.dumps(u.ref), UnitStatus.QUEUED.value)
                        for u in units
                    ],
                )
                self._db.execute("COMMIT")
            except BaseException:
                # SQLite may already have rolled back (disk full): a second ROLLBACK would hide
                # the real error behind "cannot rollback - no transaction is active".
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        return self.get(job_id)

    def get(self, job_id: str) -> Job:
        rows = self._q("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            raise NotFound(f"no job {job_id}")
        return self._job(rows[0])

    def _job(self, row: tuple[Any, ...]) -> Job:
        job_id, kind, state, total, created, started, finished, meta = row
        counts = dict(
            self._q(
                "SELECT status, COUNT(*) FROM units WHERE job_id = ? GROUP BY status", (job_id,)
            )
        )
        done = int(counts.get(UnitStatus.DONE.value, 0))
        failed = int(counts.get(UnitStatus.FAILED.value, 0))
        errors = [
            UnitError(seq=s, name=n, message=e or "")
            for s, n, e in self._q(
                "SELECT seq, name, error FROM units WHERE job_id = ? AND status = ? "
                "ORDER BY seq LIMIT ?",
                (job_id, UnitStatus.FAILED.value, MAX_ERRORS_SHOWN),
            )
        ]
        shown = derive_state(
            stored=JobState(state),
            total=total,
            done=done,
            failed=failed,
            started=started is not None,
            kind=JobKind(kind),
        )
        if shown in FINAL_STATES and finished is None:
            finished = time.time()
            self._q("UPDATE jobs SET finished_at = ? WHERE id = ?", (finished, job_id))
        return Job(
            id=job_id,
            kind=JobKind(kind),
            state=shown,
            total=total,
            done=done,
            failed=failed,
            created_at=created,
            started_at=started,
            finished_at=finished,
            meta=json.loads(meta),
            errors=errors,
        )

    def recent(self, *, limit: int = 50, tenant: str | None = None) -> list[Job]:
        if tenant is None:
            rows = self._q("SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,))
        else:
            rows = self._q(
                "SELECT * FROM jobs WHERE json_extract(meta, '$.tenant') = ? "
                "ORDER BY created_at DESC LIMIT ?",
                (tenant, limit),
            )
        return [self._job(r) for r in rows]

    def units(self, job_id: str, seqs: Sequence[int]) -> list[Unit]:
        out: list[Unit] = []
        for start in range(0, len(seqs), 500):
            chunk = list(seqs[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._q(
                f"SELECT seq, name, ref FROM units WHERE job_id = ? AND seq IN ({marks})",
                (job_id, *chunk),
            )
            out.extend(Unit(seq=s, name=n, ref=json.loads(r)) for s, n, r in rows)
        return sorted(out, key=lambda u: u.seq)

    def queued(self, job_id: str) -> list[int]:
        rows = self._q(
            "SELECT seq FROM units WHERE job_id = ? AND status = ? ORDER BY seq",
            (job_id, UnitStatus.QUEUED.value),
        )
        return [r[0] for r in rows]

    def mark_started(self, job_id: str) -> None:
        self._q(
            "UPDATE jobs SET started_at = COALESCE(started_at, ?) WHERE id = ?",
            (time.time(), job_id),
        )

    def mark(
        self, job_id: str, *, done: Sequence[int] = (), failed: Mapping[int, str] | None = None
    ) -> None:
        with self._lock, mapped_errors():
            self._db.execute("BEGIN")
            try:
                self._mark(job_id, done, failed or {})
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _mark(self, job_id: str, done: Sequence[int], failed: Mapping[int, str]) -> None:
        self._db.executemany(
            "UPDATE units SET status = ?, error = NULL WHERE job_id = ? AND seq = ?",
            [(UnitStatus.DONE.value, job_id, s) for s in done],
        )
        self._db.executemany(
            "UPDATE units SET status = ?, error = ? WHERE job_id = ? AND seq = ? AND status != ?",
            [
                (UnitStatus.FAILED.value, msg, job_id, s, UnitStatus.DONE.value)
                for s, msg in failed.items()
            ],
        )

    def retry_failed(self, job_id: str) -> list[int]:
        self.get(job_id)
        with self._lock, mapped_errors():
            seqs = [
                r[0]
                for r in self._db.execute(
                    "SELECT seq FROM units WHERE job_id = ? AND status = ? ORDER BY seq",
                    (job_id, UnitStatus.FAILED.value),
                ).fetchall()
            ]
            self._db.execute(
                "UPDATE units SET status = ?, error = NULL WHERE job_id = ? AND status = ?",
                (UnitStatus.QUEUED.value, job_id, UnitStatus.FAILED.value),
            )
            if seqs:
                self._db.execute(
                    "UPDATE jobs SET state = ?, finished_at = NULL WHERE id = ?",
                    (JobState.RUNNING.value, job_id),
                )
        return seqs

    def set_state(self, job_id: str, state: JobState, *, reason: str | None = None) -> None:
        self.get(job_id)
        finished = time.time() if state in FINAL_STATES else None
        self._q(
            "UPDATE jobs SET state = ?, finished_at = ? WHERE id = ?",
            (state.value, finished, job_id),
        )
        if reason is not None:
            self.update_meta(job_id, {"reason": reason})

    def update_meta(self, job_id: str, meta: Mapping[str, Any]) -> None:
        with self._lock, mapped_errors():
            job = self.get(job_id)
            merged = {**job.meta, **meta}
            self._db.execute("UPDATE jobs SET meta = ? WHERE id = ?", (json.dumps(merged), job_id))

    def active(self) -> list[str]:
        rows = self._q("SELECT id FROM jobs ORDER BY created_at")
        return [r[0] for r in rows if self.get(r[0]).state not in FINAL_STATES]

    def claim(self, job_id: str, step: str) -> bool:
        with self._lock, mapped_errors():
            cursor = self._db.execute("INSERT OR IGNORE INTO claims VALUES (?, ?)", (job_id, step))
            return cursor.rowcount == 1

    def ping(self) -> None:
        self._q("SELECT 1")

    def backup_to(self, dest: Path) -> None:
        """A consistent copy of the database (SQLite's online backup) at ``dest``."""
        with self._lock, mapped_errors():
            target = sqlite3.connect(dest)
            try:
                self._db.backup(target)
            finally:
                target.close()

    def close(self) -> None:
        with self._lock:
            self._db.close()
