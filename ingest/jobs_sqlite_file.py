"""The SQLite file behind ``SqliteJobStore``: its schema, opening it (WAL, a quick check), setting
a damaged one aside for a new empty one, and SQLite's errors as domain errors."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from loupe.ingest.storage import storage_error
from loupe.search.errors import Unavailable

log = logging.getLogger(__name__)
WHERE = "the job database (jobs.sqlite3 in the data folder)"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, total INTEGER NOT NULL,
    created_at REAL NOT NULL, started_at REAL, finished_at REAL, meta TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS units (
    job_id TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL, ref TEXT NOT NULL,
    status TEXT NOT NULL, error TEXT, PRIMARY KEY (job_id, seq)
);
CREATE TABLE IF NOT EXISTS claims (
    job_id TEXT NOT NULL, step TEXT NOT NULL, PRIMARY KEY (job_id, step)
);
CREATE INDEX IF NOT EXISTS units_status ON units (job_id, status);
"""


@contextlib.contextmanager
def mapped_errors() -> Iterator[None]:
    """SQLite errors as domain errors: disk full → 507, read-only → 503, others → 503."""
    try:
        yield
    except sqlite3.Error as exc:
        known = storage_error(exc, where=WHERE)
        raise known or Unavailable(f"{WHERE} failed: {exc}") from exc


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        verdict = db.execute("PRAGMA quick_check").fetchone()
        if verdict is None or verdict[0] != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {verdict[0] if verdict else 'no answer'}")
    except BaseException:
        db.close()
        raise
    return db


def _set_aside(path: Path, exc: sqlite3.Error) -> Path:
    """Rename a damaged database (and its WAL files) aside, never delete it."""
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            os.replace(source, Path(f"{aside}{suffix}"))
    log.warning(
        "the job database %s is damaged (%s): set aside as %s and a new empty one started; "
        "earlier job records are in the set-aside file",
        path,
        exc,
        aside,
    )
    return aside


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("malformed", "not a database", "quick_check", "corrupt"))


def open_database(path: Path) -> sqlite3.Connection:
    """The job database at ``path``, created if missing; a damaged one is set aside (kept) and
    a new empty one started. Disk full, read-only, etc. raise the storage errors, others
    ``Unavailable``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return _connect(path)
        except sqlite3.DatabaseError as exc:
            if storage_error(exc, where=WHERE) is not None or not _damaged(exc):
                raise
            _set_aside(path, exc)
            return _connect(path)
    except (sqlite3.Error, OSError) as exc:
        known = storage_error(exc, where=WHERE)
        raise known or Unavailable(f"{WHERE} cannot be opened: {exc}") from exc
