"""One embedded collection as layers: optimized bases plus a small exact tail (``edge_layers``
describes the files, steps and recovery; ``edge_build`` the child that builds bases).

Every method is called with the owning ``EdgeIndex``'s lock held, except ``poll``'s slow parts
(loading a finished base), which run before the lock is taken.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import time
from dataclasses import replace
from multiprocessing.process import BaseProcess
from pathlib import Path

import qdrant_edge as qe

from loupe.search.index.base import IndexState
from loupe.search.index.edge_build import start_build
from loupe.search.index.edge_counts import LayerCounts
from loupe.search.index.edge_host import BaseHost
from loupe.search.index.edge_layers import (
    LEGACY_SHARD,
    PROGRESS,
    Build,
    Layers,
    Tombstones,
    read_layers,
    read_progress,
    remove_strays,
    write_layers,
)
from loupe.search.index.edge_memo import VectorMemo
from loupe.search.index.edge_reads import LayerReads
from loupe.search.index.edge_shards import create_shard, load_shard, point_count, tail_config
from loupe.search.index.stamp import Stamp

log = logging.getLogger(__name__)
RETRY_BUILD_S = 60.0
TAIL_PREFIX = "tail-"
# A build is due once this many base points are deleted or overwritten (each is left out of
# every search of its base by id until a build applies it).
TOMBSTONES_BUILD = 2000
# Test hook: the serving process SIGKILLs itself at this step of a swap.
SWAP_KILL_AT_ENV = "LOUPE_TEST_SWAP_KILL_AT"


def _kill_point(step: str) -> None:
    if os.environ.get(SWAP_KILL_AT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _local(layer: str) -> bool:
    """Whether a layer is opened in the serving process (a tail, small, written here) rather
    than in a host process of its own (a built base: ``edge_host``)."""
    return layer.startswith(TAIL_PREFIX)


def _delete(shard: qe.EdgeShard, ids: list[str]) -> None:
    if ids:
        shard.update(qe.UpdateOperation.delete_points(list(ids)))


class EdgeCollection(LayerReads):
    def __init__(
        self, folder: Path, stamp: Stamp, *, build_after: int, nice: int, pin_mb: int
    ) -> None:
        self.folder = folder
        self.stamp = stamp
        self.build_after = build_after
        self.nice = nice
        self.pin_mb = pin_mb
        self.tombstones = Tombstones.load(folder)
        self.layers = self._recover()
        # Tails (and frozen tails) are open here and written here; built bases are hosted.
        self.shards = {n: load_shard(folder / n) for n in self.layers.names() if _local(n)}
        self.hosts = {
            n: BaseHost(folder / n, pin_mb=pin_mb) for n in self.layers.names() if not _local(n)
        }
        # Hosted bases made before some payload index existed: the next build adds it (``due``).
        self._stale = {n for n, host in self.hosts.items() if host.missing_indexes()}
        self._counts = LayerCounts()
        self._memo = VectorMemo()
        self._process: BaseProcess | None = None
        self._applied: dict[str, set[str]] = {}  # the running build's tombstones, by input
        self._not_before = 0.0

    @classmethod
    def create(cls, folder: Path, stamp: Stamp) -> None:
        """Lay out an empty collection: one empty tail, committed."""
        layers, tail = Layers(bases=(), tail="").next_name("tail")
        create_shard(folder / tail, tail_config(stamp)).close()
        write_layers(folder, replace(layers, tail=tail))

    def _recover(self) -> Layers:
        layers = read_layers(self.folder)
        if layers is None:  # written before layers: its one shard becomes the first base
            bases = (LEGACY_SHARD,) if (self.folder / LEGACY_SHARD).is_dir() else ()
            layers, tail = Layers(bases=bases, tail="").next_name("tail")
            layers = replace(layers, tail=tail)
            remove_strays(self.folder, layers)
            create_shard(self.folder / tail, tail_config(self.stamp)).close()
            write_layers(self.folder, layers)
        if layers.build is not None:  # its builder died with the server: forget the build
            layers = replace(layers, build=None)  # (its inputs stay bases, tombstones and all)
            write_layers(self.folder, layers)
        remove_strays(self.folder, layers)
        self.tombstones.keep_only(list(layers.bases))
        (self.folder / PROGRESS).unlink(missing_ok=True)
        return layers

    # -- writes ----------------------------------------------------------------------------

    def _remove_from_bases(self, ids: list[str]) -> None:
        """Delete ``ids`` from the bases: tombstones (a base is never written here)."""
        for name, layer in self._layers():
            if name in self.layers.bases:
                found = layer.retrieve(ids, False).ids
                if found:
                    self.tombstones.add(name, found)
                    self._counts.written(name)

    def upsert(self, points: list[qe.Point], ids: list[str]) -> None:
        self._remove_from_bases(ids)
        self.shards[self.layers.tail].update(qe.UpdateOperation.upsert_points(points))
        self._counts.written(self.layers.tail)
        self._memo.forget(self.layers.tail, ids)

    def delete(self, ids: list[str]) -> None:
        self._remove_from_bases(ids)
        _delete(self.shards[self.layers.tail], ids)
        self._counts.written(self.layers.tail)
        self._memo.forget(self.layers.tail, ids)

    # -- builds ----------------------------------------------------------------------------

    def pending(self) -> int:
        """Points searched exactly until a build merges them (tails, and unindexed bases)."""
        layers = self._layers()
        return sum(layer.count(None) for name, layer in layers if not name.startswith("base-"))

    def building(self) -> bool:
        return self.layers.build is not None

    def due(self) -> bool:
        if self.building() or time.monotonic() < self._not_before:
            return False
        tail = point_count(self.shards[self.layers.tail])
        legacy = any(not n.startswith("base-") for n in self.layers.bases)
        dead = self.tombstones.count() >= TOMBSTONES_BUILD
        merge = len(self.layers.bases) > 1
        stale = bool(self._stale)
        return tail >= self.build_after or (legacy and tail > 0) or merge or dead or stale

    def start(self) -> bool:
        """Freeze the tail and start a builder over every base (False if nothing to build)."""
        empty = not point_count(self.shards[self.layers.tail])
        done = empty and self._built() and not self.tombstones.count() and not self._stale
        if self.building() or done:
            return False
        self.shards[self.layers.tail].flush()  # small; bases have nothing to flush
        layers, tail = self.layers.next_name("tail")
        layers, target = layers.next_name("base")
        self.shards[tail] = create_shard(self.folder / tail, tail_config(self.stamp))
        inputs = (*self.layers.bases, self.layers.tail)
        build = Build(target=target, inputs=inputs, started_at=time.time())
        self.layers = replace(layers, bases=inputs, tail=tail, build=build)
        write_layers(self.folder, self.layers)
        self._applied = {name: set(self.tombstones.of(name)) for name in inputs}
        self._process = start_build(
            self.folder, build, self.stamp, nice=self.nice, tombstones=self._applied
        )
        log.info("building %s of %s from %s", target, self.folder.name, ", ".join(inputs))
        return True

    def _built(self) -> bool:
        return len(self.layers.bases) == 1 and self.layers.bases[0].startswith("base-")

    def finished(self) -> int | None:
        """The builder's exit code once it has exited (None while it runs or if none)."""
        process = self._process
        if process is None or process.is_alive():
            return None
        process.join()
        return process.exitcode

    def swap(self, target: BaseHost) -> tuple[list[str], list[BaseHost]]:
        """Make the built ``target`` (hosted, loaded) the base (commit); returns the input
        folders to remove and the hosts to close, once the caller has let go of the lock."""
        build = self.layers.build
        assert build is not None
        # Deletes made during the build stay tombstones, now of the target: writing them into
        # it would need a flush, which holds the GIL as long as a base is large.
        self.tombstones.carry({n: self._applied.get(n, set()) for n in build.inputs}, build.target)
        _kill_point("before_commit")
        took = time.time() - build.started_at
        kept = tuple(b for b in self.layers.bases if b not in build.inputs)
        layers = replace(self.layers, bases=(build.target, *kept), build=None, last_build_s=took)
        write_layers(self.folder, replace(layers, last_build_at=time.time()))
        _kill_point("after_commit")
        self.layers = replace(layers, last_build_at=time.time())
        retired = [self.hosts.pop(n) for n in build.inputs if n in self.hosts]
        for name in build.inputs:
            if name in self.shards:
                self.shards.pop(name).close()
        self.hosts[build.target] = target
        self.tombstones.keep_only(list(self.layers.bases))
        self._stale -= set(build.inputs)  # the builder gave the target every index
        self._counts.clear()
        self._applied = {}
        self._process = None
        (self.folder / PROGRESS).unlink(missing_ok=True)
        return list(build.inputs), retired

    def abort(self) -> None:
        """The builder failed: its inputs stay bases (with their tombstones)."""
        build = self.layers.build
        assert build is not None
        self.layers = replace(self.layers, build=None)
        write_layers(self.folder, self.layers)
        self._applied = {}
        self._process = None
        self._not_before = time.monotonic() + RETRY_BUILD_S
        shutil.rmtree(self.folder / build.target, ignore_errors=True)
        shutil.rmtree(self.folder / f"{build.target}.work", ignore_errors=True)
        (self.folder / PROGRESS).unlink(missing_ok=True)

    def state(self) -> IndexState:
        progress = read_progress(self.folder) if self.building() else None
        total = int(progress.get("total", 0)) if progress else 0
        share = None
        if progress is not None:
            share = 0.9 * int(progress.get("merged", 0)) / total if total else 0.0
            share = 0.9 if progress.get("phase") == "optimize" else share
        pending = self.pending()
        return IndexState(
            indexed=self.count(None) - pending,
            pending=pending,
            building=self.building(),
            build_phase=str(progress["phase"]) if progress else None,
            build_progress=share,
            last_build_s=self.layers.last_build_s,
            pinned_bytes=sum(host.pinned_bytes for host in self.hosts.values()),
        )

    def flush(self) -> None:
        """Flush what this process writes: the tails (a base is written only by its builder)."""
        for name, shard in self.shards.items():
            if name not in self.layers.bases:
                shard.flush()

    def stop_build(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.is_alive():
            process.kill()
            process.join()

    def close(self) -> None:
        self.stop_build()
        for name, shard in self.shards.items():
            try:
                if name not in self.layers.bases:
                    shard.flush()
            except Exception as exc:  # e.g. a full disk: the WAL still holds every write
                log.error("could not flush %s/%s on close: %s", self.folder.name, name, exc)
            shard.close()
        self.shards.clear()
        for host in self.hosts.values():
            host.close()
        self.hosts.clear()
