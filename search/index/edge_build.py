"""The base builder: a child process that merges a collection's frozen layers into a new base
shard and optimizes it (HNSW), so the serving process never runs ``optimize()`` (which holds
the GIL for its whole run: ~45 s at 100k points on 2 cores).

The child works on copies: it never opens a folder the server has open. The first input, when
it is a base built here without a WAL, is copied whole into the target and its tombstones are
deleted there (its segments and graph stay, the optimizer indexes what is added). That copy
links the files nothing writes once a segment is optimized (``SHARED_FILES``: vectors, their
int8 copies, graph links; 650 of a 700 MB base at 100k) instead of copying them, so a build
does not hold a third copy of the base on disk, and copies keep the holes of qdrant-edge's
preallocated files (``sparse_copy``); every other
input is copied aside, read page by page and upserted into the target, its tombstoned points
left out. It then optimizes, flushes and exits 0. It writes its progress to
``build.json`` (phase, points merged, total) and runs at low CPU priority; it dies with its
parent. The parent (``EdgeCollection``) swaps the result in; see ``edge_layers``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from loupe.search.index.edge_layers import PROGRESS, Build
from loupe.search.index.edge_layout import write_json_atomic
from loupe.search.index.edge_shards import (
    add_indexes,
    base_config,
    create_shard,
    has_wal,
    point_count,
)
from loupe.search.index.file_extents import data_extents
from loupe.search.index.stamp import Stamp
from loupe.search.parent_death import die_with_parent

PAGE = 512
COPY_CHUNK = 1 << 20
BASE_PREFIX = "base-"
# The files of an optimized segment that no later write touches: a delete marks the id tracker
# and the deleted flags, a payload index adds files, and the optimizer writes new segments and
# removes old ones. ``test_edge_build_links`` checks that a build leaves the linked base as it was.
SHARED_FILES = frozenset(
    {"matrix.dat", "quantized.data", "links.bin", "links_compressed.bin", "inverted_index.dat"}
)
# Test hooks: the builder SIGKILLs itself at this phase (to prove each step crash-safe), or
# waits there until a file ``.<target>.go`` appears beside it (to act during a build).
KILL_AT_ENV = "LOUPE_TEST_BUILD_KILL_AT"
HOLD_AT_ENV = "LOUPE_TEST_BUILD_HOLD_AT"


class _Progress:
    def __init__(self, folder: Path, build: Build, total: int) -> None:
        self.path = folder / PROGRESS
        self.go = folder / f".{build.target}.go"
        self.build = build
        self.total = total
        self.done = 0

    def phase(self, name: str) -> None:
        write_json_atomic(
            self.path,
            {
                "target": self.build.target,
                "phase": name,
                "merged": self.done,
                "total": self.total,
                "pid": os.getpid(),
                "at": time.time(),
            },
        )
        if os.environ.get(KILL_AT_ENV) == name:
            os.kill(os.getpid(), signal.SIGKILL)
        while os.environ.get(HOLD_AT_ENV) == name and not self.go.exists():
            time.sleep(0.05)


def _copy_points(
    source: qe.EdgeShard, target: qe.EdgeShard, progress: _Progress, skip: set[str]
) -> None:
    offset: Any = None
    while True:
        request = qe.ScrollRequest(offset=offset, limit=PAGE, with_payload=True, with_vector=True)
        records, offset = source.scroll(request)
        kept = [r for r in records if str(r.id) not in skip]
        points = [qe.Point(r.id, r.vector or {}, r.payload) for r in kept]
        if points:
            target.update(qe.UpdateOperation.upsert_points(points))
        progress.done += len(records)
        progress.phase("merge")
        if offset is None:
            return


def build_base(
    folder: str, build: Build, stamp: Stamp, nice: int, tombstones: dict[str, set[str]]
) -> None:
    """Merge ``build.inputs`` of the collection in ``folder`` into ``build.target`` (child),
    leaving out each input's ``tombstones`` (the ids deleted from it before the build)."""
    die_with_parent()
    with contextlib.suppress(OSError):
        os.nice(nice)
    root = Path(folder)
    work = root / f"{build.target}.work"
    target_path = root / build.target
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(target_path, ignore_errors=True)
    work.mkdir()
    inputs = list(build.inputs)
    first = inputs[0] if inputs and _reusable(inputs[0], root / inputs[0]) else None
    copies: dict[str, Path] = {}
    for name in inputs:
        copies[name] = work / name
        copy = _link_or_copy if name == first else sparse_copy
        shutil.copytree(root / name, copies[name], copy_function=copy)
    opened = {name: qe.EdgeShard.load(str(path)) for name, path in copies.items()}
    progress = _Progress(root, build, sum(point_count(s) for s in opened.values()))
    progress.phase("copy")
    if first is not None:  # its segments and graph stay; the optimizer indexes what is added
        opened.pop(first).close()
        os.replace(copies[first], target_path)
        target = qe.EdgeShard.load(str(target_path))
        add_indexes(target)  # those added to Loupe since this base was built
        dead = sorted(tombstones.get(first, set()))
        if dead:
            target.update(qe.UpdateOperation.delete_points(list(dead)))
        progress.done = point_count(target) + len(dead)
    else:
        target = create_shard(target_path, base_config(stamp))
    for name, source in opened.items():
        _copy_points(source, target, progress, tombstones.get(name, set()))
        source.close()
    shutil.rmtree(work, ignore_errors=True)
    progress.phase("optimize")
    target.optimize()
    target.flush()
    target.close()
    progress.phase("done")


def _link_or_copy(source: str, target: str) -> None:
    """A hard link for the files in ``SHARED_FILES`` (a copy where the file system has none)."""
    if os.path.basename(source) in SHARED_FILES:
        try:
            os.link(source, target)
            return
        except OSError:
            pass
    sparse_copy(source, target)


def sparse_copy(source: str, target: str) -> None:
    """``shutil.copy2`` that keeps a sparse file's holes: qdrant-edge preallocates 32 MB and
    larger files mostly empty (an appendable segment's pages, a WAL), and a plain copy writes
    their zeros out (~170 MB for the empty segment of a base, and as much for a tail). Copies
    the data extents only (``file_extents``); a plain copy where those are missing."""
    with open(source, "rb") as src:
        size = os.fstat(src.fileno()).st_size
        parts = data_extents(src.fileno(), size)
        if parts is not None:
            with open(target, "wb") as dst:
                for start, end in parts:
                    src.seek(start)
                    dst.seek(start)
                    for _ in range(start, end, COPY_CHUNK):
                        dst.write(src.read(min(COPY_CHUNK, end - src.tell())))
                dst.truncate(size)
    if parts is None:
        shutil.copy2(source, target)  # no SEEK_DATA on this file system
        return
    shutil.copystat(source, target)


def _reusable(name: str, folder: Path) -> bool:
    """A base built here without a WAL is extended in place; an older one (with a WAL that
    every load replays) is merged point by point into a new base without one."""
    return name.startswith(BASE_PREFIX) and not has_wal(folder)


def start_build(
    folder: Path, build: Build, stamp: Stamp, *, nice: int, tombstones: dict[str, set[str]]
) -> BaseProcess:
    """``build_base`` in a new (spawned) child process, started."""
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=build_base,
        args=(str(folder), build, stamp, nice, tombstones),
        name=f"loupe-build-{build.target}",
        daemon=True,
    )
    process.start()
    return process
