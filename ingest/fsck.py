"""``loupe fsck``: the blob store, the index and the job records checked against each other.

Checks: every local blob against its sha256 (damaged ones answer 410 on read), points whose
blob is missing or damaged, blobs no point and no unfinished job refers to (orphans), ``.tmp-*``
leftovers of interrupted writes, unfinished jobs whose queued units refer to missing blobs.
``repair`` re-links what can be re-linked (a leftover or a misfiled blob whose bytes hash to a
missing or damaged key goes back into place), removes orphans and old leftovers, and marks the
queued units of missing blobs failed so their jobs can finish. Points are never deleted: an item
whose original is lost is reported for the user to delete or upload again. Files younger than
``grace_s`` are left alone (an upload in flight stores its blob before its job exists).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from loupe.ingest.blobs import LocalBlobStore, content_key, is_key
from loupe.ingest.jobs import JobStore
from loupe.search.errors import NotFound
from loupe.search.index import VectorIndex

SCROLL_PAGE = 512
SHOWN = 50  # ids listed per finding; the counts are always complete
MISSING_BLOB = "the stored original is missing (found by loupe fsck)"


@dataclass(slots=True)
class Finding:
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.count += 1
        if len(self.examples) < SHOWN:
            self.examples.append(what)


@dataclass(slots=True)
class FsckReport:
    blobs: int = 0
    points: int = 0
    checked_blobs: bool = True  # False for S3: listing and hashing a bucket is not done here
    damaged_blobs: Finding = field(default_factory=Finding)
    points_without_blobs: Finding = field(default_factory=Finding)
    orphan_blobs: Finding = field(default_factory=Finding)
    leftovers: Finding = field(default_factory=Finding)
    jobs_with_missing_items: Finding = field(default_factory=Finding)
    repaired: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        found = (
            self.damaged_blobs,
            self.points_without_blobs,
            self.orphan_blobs,
            self.leftovers,
            self.jobs_with_missing_items,
        )
        return all(f.count == 0 for f in found)


def _files(root: Path) -> Iterator[Path]:
    for folder, _, names in os.walk(root):
        for name in names:
            yield Path(folder) / name


def _old(path: Path, grace_s: float, now: float) -> bool:
    try:
        return now - path.stat().st_mtime >= grace_s
    except FileNotFoundError:
        return False


def _point_blobs(index: VectorIndex, report: FsckReport) -> dict[str, list[str]]:
    """blob key -> point ids, over every collection."""
    keys: dict[str, list[str]] = {}
    for info in index.list_collections():
        offset: str | None = None
        while True:
            hits, offset = index.scroll(info.name, limit=SCROLL_PAGE, offset=offset)
            for hit in hits:
                report.points += 1
                key = hit.payload.get("sha256")
                if isinstance(key, str):
                    keys.setdefault(key, []).append(hit.id)
            if offset is None:
                break
    return keys


def _job_blobs(jobs: JobStore) -> dict[str, dict[str, list[int]]]:
    """job id -> blob key -> queued unit seqs, for unfinished jobs."""
    out: dict[str, dict[str, list[int]]] = {}
    for job_id in jobs.active():
        for unit in jobs.units(job_id, jobs.queued(job_id)):
            key = unit.ref.get("blob") or (unit.ref.get("spec") or {}).get("blob")
            if isinstance(key, str):
                out.setdefault(job_id, {}).setdefault(key, []).append(unit.seq)
    return out


class Fsck:
    def __init__(
        self,
        *,
        blobs: LocalBlobStore | None,
        index: VectorIndex,
        jobs: JobStore,
        thumbs_dir: Path | None = None,
        grace_s: float = 3600.0,
    ) -> None:
        self.blobs, self.index, self.jobs = blobs, index, jobs
        self.thumbs_dir = thumbs_dir
        self.grace_s = grace_s

    def run(self, *, repair: bool = False) -> FsckReport:
        report = FsckReport(checked_blobs=self.blobs is not None)
        wanted = _point_blobs(self.index, report)
        by_job = _job_blobs(self.jobs)
        queued = {key for keys in by_job.values() for key in keys}
        now = time.time()
        good: set[str] = set()
        damaged: set[str] = set()
        spares: dict[str, Path] = {}  # bytes found outside their place, by their real key
        if self.blobs is not None:
            for path in _files(self.blobs.root):
                if path.name.startswith(".tmp-"):
                    if _old(path, self.grace_s, now):
                        report.leftovers.add(str(path.relative_to(self.blobs.root)))
                        spares.setdefault(content_key(path.read_bytes()), path)
                    continue
                if not is_key(path.name):
                    continue  # not ours
                report.blobs += 1
                real = content_key(path.read_bytes())
                if path != self.blobs.path_of(path.name) or real != path.name:
                    spares.setdefault(real, path)
                    if real != path.name:
                        report.damaged_blobs.add(path.name)
                        damaged.add(path.name)
                        continue
                good.add(path.name)
        for key, ids in sorted(wanted.items()):
            present = self.blobs.exists(key) if self.blobs is not None else True
            if not present or key in damaged:
                for point in ids:
                    report.points_without_blobs.add(f"{point} (blob {key})")
        missing_for_jobs: dict[str, dict[int, str]] = {}
        for job_id, keys in by_job.items():
            lost = [k for k in keys if self.blobs is not None and not self.blobs.exists(k)]
            if lost:
                report.jobs_with_missing_items.add(f"{job_id} ({len(lost)} items)")
                missing_for_jobs[job_id] = {s: MISSING_BLOB for k in lost for s in keys[k]}
        orphans = [
            k
            for k in sorted(good)
            if k not in wanted and k not in queued and self._old_blob(k, now)
        ]
        for key in orphans:
            report.orphan_blobs.add(key)
        if repair and self.blobs is not None:
            needed = {k: p for k, p in spares.items() if k in wanted or k in queued}
            self._repair(report, needed, damaged, orphans, missing_for_jobs)
        return report

    def _old_blob(self, key: str, now: float) -> bool:
        assert self.blobs is not None
        return _old(self.blobs.path_of(key), self.grace_s, now)

    def _repair(
        self,
        report: FsckReport,
        spares: dict[str, Path],  # referenced keys whose bytes lie elsewhere
        damaged: set[str],
        orphans: list[str],
        missing_for_jobs: dict[str, dict[int, str]],
    ) -> None:
        assert self.blobs is not None
        names = ("relinked", "orphans_removed", "leftovers_removed", "job_units_failed")
        counts = dict.fromkeys(names, 0)
        for key, source in spares.items():
            target = self.blobs.path_of(key)
            if source != target and (key in damaged or not target.exists()):
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
                counts["relinked"] += 1
                damaged.discard(key)
        for key in orphans:
            self.blobs.delete(key)
            counts["orphans_removed"] += 1
            if self.thumbs_dir is not None:
                for cached in self.thumbs_dir.glob(f"{key}-*"):
                    cached.unlink(missing_ok=True)
        for path in list(_files(self.blobs.root)):
            if path.name.startswith(".tmp-") and _old(path, self.grace_s, time.time()):
                path.unlink(missing_ok=True)
                counts["leftovers_removed"] += 1
        for job_id, failed in missing_for_jobs.items():
            still = {s: m for s, m in failed.items() if s in set(self.jobs.queued(job_id))}
            with contextlib.suppress(NotFound):  # the job was deleted meanwhile
                self.jobs.mark(job_id, failed=still)
                counts["job_units_failed"] += len(still)
        report.repaired = counts
