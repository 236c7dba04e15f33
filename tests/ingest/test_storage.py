"""Storage faults on real file systems: errno and SQLite causes mapped to 507/503, the disk
watermarks measured on a small tmpfs, a damaged job database set aside."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from loupe.ingest.blobs import LocalBlobStore
from loupe.ingest.jobs import JobKind, Unit
from loupe.ingest.jobs_sqlite import SqliteJobStore
from loupe.ingest.storage import DiskGuard, Level, storage_error
from loupe.search.errors import StorageFull, StorageUnavailable
from tests.storage_fs import MB, fill, read_only, tmpfs


def test_errno_and_engine_messages_are_mapped(tmp_path: Path) -> None:
    full = storage_error(
        OSError(errno.ENOSPC, "No space", str(tmp_path / "blobs" / "ab")), data_dir=tmp_path
    )
    assert isinstance(full, StorageFull) and '"blobs"' in full.message
    assert str(tmp_path) not in full.message  # the folder is named, not the absolute path
    ro = storage_error(OSError(errno.EROFS, "ro", str(tmp_path / "index" / "x")), data_dir=tmp_path)
    assert isinstance(ro, StorageUnavailable) and '"index"' in ro.message
    engine = RuntimeError("Service internal error: No space left on device (os error 28)")
    assert isinstance(storage_error(engine), StorageFull)
    assert isinstance(
        storage_error(sqlite3.OperationalError("database or disk is full")), StorageFull
    )
    assert storage_error(ValueError("bad things")) is None


def test_watermarks_follow_free_space_on_a_tmpfs(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "fs", 64) as fs:
        clock = [0.0]
        guard = DiskGuard(
            {"data": fs},
            data_dir=fs,
            low="30MB",
            flood="10%",
            interval_s=1.0,
            clock=lambda: clock[0],
        )
        assert guard.state().level is Level.OK
        guard.check_write(MB)
        ballast = fill(fs, leave=20 * MB)
        assert guard.state().level is Level.OK  # cached for interval_s: no statvfs per call
        clock[0] += 1.0
        assert guard.state().level is Level.LOW
        guard.check_write(MB)
        with pytest.raises(StorageFull):
            guard.check_write(15 * MB)  # would cross the flood watermark (6.4 MB)
        fill(fs, leave=4 * MB)
        state = guard.state(fresh=True)
        assert state.level is Level.FULL and state.need == int(64 * MB * 0.10)
        with pytest.raises(StorageFull, match="full"):
            guard.check_write()
        ballast.unlink()
        assert guard.state(fresh=True).level is Level.OK  # space freed: writes resume


def test_blob_writes_on_full_and_read_only_disks(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "blobs", 16) as fs:
        blobs = LocalBlobStore(fs)
        key = blobs.put(b"kept")
        fill(fs, leave=0)
        with pytest.raises(StorageFull, match='"blobs"'):
            blobs.put(b"x" * (2 * MB))
        assert not list(fs.rglob(".tmp-*"))  # the half-written temp file is gone
        (fs / "ballast.bin").unlink()
        read_only(fs, on=True)
        try:
            with pytest.raises(StorageUnavailable, match=r'"blobs".*read-only'):
                blobs.put(b"y")
            assert blobs.get(key) == b"kept"  # reads still work
        finally:
            read_only(fs, on=False)


def test_full_disk_shows_in_job_creation_not_rollback(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "fs", 8) as fs:
        jobs = SqliteJobStore(fs / "jobs.sqlite3")
        fill(fs, leave=0)
        units = [
            Unit(seq=i, name=f"n{i}", ref={"kind": "text", "text": "x" * 500})
            for i in range(20_000)
        ]
        with pytest.raises(StorageFull, match="job database") as caught:
            jobs.create(JobKind.BULK, units)
        assert "full" in str(caught.value.__cause__)  # not "cannot rollback - no transaction"
        (fs / "ballast.bin").unlink()
        job = jobs.create(JobKind.BULK, units[:10])  # the store still works afterwards
        assert jobs.get(job.id).total == 10
        jobs.close()


def test_truncated_job_database_is_set_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "jobs.sqlite3"
    jobs = SqliteJobStore(db)
    units = [
        Unit(seq=i, name=f"n{i}", ref={"kind": "text", "text": "x" * 200}) for i in range(2000)
    ]
    old = jobs.create(JobKind.BULK, units)
    jobs.close()
    size = db.stat().st_size
    with db.open("r+b") as fh:
        fh.truncate(size // 3)
    reopened = SqliteJobStore(db)
    aside = [
        p
        for p in tmp_path.iterdir()
        if ".damaged-" in p.name and not p.name.endswith(("-wal", "-shm"))
    ]
    assert len(aside) == 1 and aside[0].stat().st_size == size // 3
    assert "damaged" in caplog.text and aside[0].name in caplog.text
    assert reopened.recent() == []
    assert old.id  # its record lives on in the set-aside file, not in the new one
    reopened.close()
