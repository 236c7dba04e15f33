"""``loupe backup`` / ``loupe restore``: the library (index, blobs, job records) copied to a
folder while the service keeps serving, and put back into a new data folder.

Order makes the copy consistent for every acknowledged item: the job records first (SQLite's
online backup), then the index (flushed and copied under its lock), then the blobs. An upload
is acknowledged only once its blob and its job exist, and a point is written before its unit is
marked done; so each item acknowledged before the backup is either a point in the copied index
or a queued unit in the copied jobs with its blob copied, and a restored server finishes it.
Blobs never change once written: they are hard-linked when the backup is on the same disk.
The backup is built in a hidden folder and renamed into place: it is complete or absent.

Embedded mode only. A Qdrant server is backed up with its snapshot API and S3 blobs with the
bucket's own tools (docs/backup.md); those are refused here with that pointer.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from loupe.ingest.blobs import BlobStore, LocalBlobStore, is_key
from loupe.ingest.jobs import JobStore
from loupe.ingest.jobs_sqlite import SqliteJobStore
from loupe.ingest.storage import mib
from loupe.search.errors import Conflict, InvalidInput, StorageFull
from loupe.search.index import VectorIndex
from loupe.search.index.edge_layout import copy_sparse

MANIFEST = "loupe-backup.json"
FORMAT = 1
SERVER_MODE = (
    "backs up only the embedded store; for a Qdrant server or S3 blobs use their snapshot "
    "tools (see docs/backup.md)"
)


@dataclass(slots=True)
class BackupReport:
    path: str
    format: int = FORMAT
    created_at: float = 0.0
    collections: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    blobs: int = 0
    blob_bytes: int = 0
    blobs_linked: int = 0
    databases: list[str] = field(default_factory=list)  # other SQLite files (API keys, ...)
    took_s: float = 0.0


def _size(folder: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


def _check_room(dest: Path, need: int) -> None:
    probe = dest
    while not probe.exists():
        probe = probe.parent
    st = os.statvfs(probe)
    free = st.f_bavail * st.f_frsize
    if free < need * 1.1:
        raise StorageFull(
            f"the backup folder's disk has {mib(free)} free; this backup needs about {mib(need)}"
        )


def _fresh(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Conflict("the backup goes into a new or empty folder; that one holds files")


def _copy_blobs(blobs: LocalBlobStore, dest: Path, report: BackupReport) -> None:
    for folder, _, names in os.walk(blobs.root):
        for name in names:
            if not is_key(name):
                continue  # .tmp-* leftovers and strangers stay behind
            source = Path(folder) / name
            target = dest / source.relative_to(blobs.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
                report.blobs_linked += 1
            except OSError:
                shutil.copy2(source, target)
            report.blobs += 1
            report.blob_bytes += source.stat().st_size


def _copy_databases(data_dir: Path, dest: Path) -> list[str]:
    """The data folder's other SQLite files (API keys, audit), each by SQLite's online backup."""
    copied = []
    for path in sorted(data_dir.glob("*.sqlite3")):
        if path.name == "jobs.sqlite3":
            continue
        source = sqlite3.connect(path)
        target = sqlite3.connect(dest / path.name)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        copied.append(path.name)
    return copied


def backup(
    dest: Path, *, index: VectorIndex, blobs: BlobStore, jobs: JobStore, data_dir: Path
) -> BackupReport:
    """Copy the library into ``dest`` (new or empty) while it keeps serving."""
    from loupe.search.index.edge_store import EdgeIndex

    if not isinstance(index, EdgeIndex) or not isinstance(blobs, LocalBlobStore):
        raise Conflict(f"loupe backup {SERVER_MODE}")
    if not isinstance(jobs, SqliteJobStore):
        raise Conflict(f"loupe backup {SERVER_MODE}")
    _fresh(dest)
    started = time.monotonic()
    same_disk = dest.parent.exists() and os.stat(dest.parent).st_dev == os.stat(blobs.root).st_dev
    need = _size(data_dir / "index") + (0 if same_disk else _size(blobs.root))
    _check_room(dest.parent, need)
    work = dest.with_name(f".{dest.name}.partial-{uuid.uuid4().hex[:8]}")
    work.mkdir(parents=True)
    try:
        report = BackupReport(path=str(dest), created_at=time.time())
        jobs.backup_to(work / "jobs.sqlite3")
        report.databases = _copy_databases(data_dir, work)
        report.collections = index.copy_to(work / "index")
        report.aliases = json.loads((work / "index" / "aliases.json").read_text("utf-8"))
        _copy_blobs(blobs, work / "blobs", report)
        report.took_s = round(time.monotonic() - started, 3)
        (work / MANIFEST).write_text(json.dumps(asdict(report), indent=2), encoding="utf-8")
        if dest.exists():
            dest.rmdir()
        os.replace(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return report


def read_manifest(src: Path) -> BackupReport:
    try:
        raw = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InvalidInput(f"{src} is not a Loupe backup (no readable {MANIFEST})") from None
    if raw.get("format") != FORMAT:
        raise InvalidInput(f"{src} is a backup of format {raw.get('format')}, not {FORMAT}")
    return BackupReport(**raw)


def restore(src: Path, data_dir: Path) -> BackupReport:
    """Put the backup at ``src`` into ``data_dir``, which must hold no library yet."""
    report = read_manifest(src)
    parts = {"index": data_dir / "index", "blobs": data_dir / "blobs"}
    dbs = [data_dir / n for n in ("jobs.sqlite3", *report.databases)]
    taken = [p.name for p in (*parts.values(), *dbs) if p.exists()]
    if taken:
        raise Conflict(
            f"{data_dir} already holds a library ({', '.join(taken)}): restore into a new data "
            "folder (LOUPE_DATA_DIR), or move that one away first"
        )
    _check_room(data_dir, _size(src))
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src / "index", parts["index"], copy_function=copy_sparse)
    shutil.copytree(src / "blobs", parts["blobs"])
    for name in ("jobs.sqlite3", *report.databases):
        shutil.copy2(src / name, data_dir / name)
    found = sum(1 for p in (data_dir / "blobs").rglob("*") if p.is_file() and is_key(p.name))
    if found != report.blobs:
        raise InvalidInput(f"the backup lists {report.blobs} blobs but holds {found}")
    return report
