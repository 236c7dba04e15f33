"""``EdgeIndex``: the ``VectorIndex`` over qdrant-edge (Qdrant's engine, embedded, on disk).

qdrant-edge has no collections or aliases: each collection is a folder with a ``meta.json``
stamp and its layers (``edge_collection``), and aliases live in ``aliases.json`` (see
``edge_layout``); ``edge_catalog`` keeps both. One process owns the store (a flock on
``<root>/.lock``); a second opener gets ``IndexUnavailable``. The WAL is on: an upsert survives
a crash without ``flush()``.

HNSW policy. The engine builds HNSW only in ``optimize()``, which holds the GIL for its whole
run (~45 s at 100k points on 2 cores): a process that called it would answer nothing
meanwhile. So this process never calls it. New points go to a small tail searched exactly;
when the tail reaches ``build_after`` points, a background thread (``edge_builds``) freezes it
and starts a child process (``edge_build``) that merges the bases and the frozen tail into a
new base and optimizes it there; the thread then swaps the new base in. ``optimize(name)``
starts a build now and waits for it (bulk loads, benchmarks), without blocking other callers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import qdrant_edge as qe
from numpy.typing import NDArray

from loupe.search.index.base import (
    CONCEPTS,
    SEMANTIC,
    CollectionInfo,
    Filter,
    Hit,
    IndexState,
    Point,
    Search,
    SparseVector,
)
from loupe.search.index.batching import skipping_empty
from loupe.search.index.edge_builds import BuildDriver
from loupe.search.index.edge_catalog import EdgeCatalog
from loupe.search.index.edge_collection import EdgeCollection
from loupe.search.index.edge_columns import Found, hit_of
from loupe.search.index.edge_requests import edge_vectors, search_requests
from loupe.search.index.qdrant_filters import point_id, point_ids
from loupe.search.index.stamp import Stamp, check_stamp
from loupe.search.index.tuning import HNSW_EF

BUILD_AFTER = 10_000  # tail points that start a build


class EdgeIndex:
    """A ``VectorIndex`` in the folder ``root``, owned by this process until ``close()``.
    ``auto_optimize``: start builds by themselves (``build_after`` tail points); the builder
    runs at ``build_nice``; each built base's host locks up to ``pin_mb`` of it in RAM
    (``edge_pin``)."""

    def __init__(
        self,
        root: str | Path,
        *,
        auto_optimize: bool = True,
        build_after: int = BUILD_AFTER,
        build_nice: int = 10,
        hnsw_ef: int = HNSW_EF,
        pin_mb: int = 0,
    ) -> None:
        self._lock = threading.RLock()
        self._catalog = EdgeCatalog(
            root, build_after=build_after, build_nice=build_nice, pin_mb=pin_mb
        )
        self._hnsw_ef = hnsw_ef
        self._builds = BuildDriver(self._lock, self._catalog.open, auto=auto_optimize)

    # -- collections -----------------------------------------------------------------------

    def _get(self, name: str) -> tuple[str, EdgeCollection]:
        """The open collection of a name or alias (caller holds the lock)."""
        return self._catalog.get(name)

    def create_collection(
        self, name: str, *, model_id: str, dim: int, visual_dim: int | None
    ) -> None:
        wanted = Stamp(model_id=model_id, dim=dim, visual_dim=visual_dim, created_at=time.time())
        with self._lock:
            self._catalog.create(name, wanted)

    def open_collection(self, name: str, *, model_id: str, dim: int) -> CollectionInfo:
        info = self.collection_info(name)
        have = Stamp(info.model_id, info.dim, info.visual_dim, info.created_at)
        check_stamp(name, have, Stamp(model_id, dim, info.visual_dim, 0.0), visual=False)
        return info

    def collection_info(self, name: str) -> CollectionInfo:
        with self._lock:
            return self._catalog.info(name)

    def list_collections(self) -> list[CollectionInfo]:
        with self._lock:
            return [self._catalog.info(name) for name in self._catalog.names()]

    def drop_collection(self, name: str) -> None:
        with self._lock:
            self._catalog.drop(name)

    def set_alias(self, alias: str, collection: str) -> None:
        with self._lock:
            self._catalog.set_alias(alias, collection)

    def resolve_alias(self, alias: str) -> str | None:
        with self._lock:
            return self._catalog.resolve_alias(alias)

    def delete_alias(self, alias: str) -> None:
        with self._lock:
            self._catalog.delete_alias(alias)

    # -- points ----------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        if not points:
            return
        edge_points = [qe.Point(point_id(p.id), edge_vectors(p), p.payload) for p in points]
        ids = list(dict.fromkeys(point_id(p.id) for p in points))
        with self._lock:
            self._get(collection)[1].upsert(edge_points, ids)

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        wanted = point_ids(ids)
        if not wanted:
            return
        with self._lock:
            self._get(collection)[1].delete(wanted)

    def retrieve(
        self, collection: str, ids: Sequence[str], *, with_vectors: bool | tuple[str, ...] = False
    ) -> list[Hit]:
        wanted = point_ids(ids)
        if not wanted:
            return []
        with self._lock:
            records = self._get(collection)[1].retrieve(wanted, with_vectors=with_vectors)
        found = {r.id: hit_of(r, 1.0, bool(with_vectors)) for r in records}
        return [found[i] for i in wanted if i in found]

    def count(self, collection: str, flt: Filter | None = None) -> int:
        with self._lock:
            return self._get(collection)[1].count(flt)

    def scroll(
        self,
        collection: str,
        *,
        flt: Filter | None = None,
        limit: int = 256,
        offset: str | None = None,
        with_vectors: bool = False,
    ) -> tuple[list[Hit], str | None]:
        start = point_id(offset) if offset is not None else None
        with self._lock:
            records, following = self._get(collection)[1].scroll(
                flt=flt, limit=limit, offset=start, with_vectors=with_vectors
            )
        return [hit_of(r, 1.0, with_vectors) for r in records], following

    def scroll_ordered(
        self,
        collection: str,
        *,
        key: str,
        descending: bool,
        flt: Filter | None = None,
        limit: int = 256,
        with_payload: bool = True,
    ) -> list[Hit]:
        with self._lock:
            records = self._get(collection)[1].scroll_ordered(
                key=key, descending=descending, flt=flt, limit=limit, with_payload=with_payload
            )
        return [hit_of(r, r.score, False) for r in records]  # score: the value

    def search(
        self,
        collection: str,
        vector: NDArray[np.float32],
        *,
        using: str = SEMANTIC,
        flt: Filter | None = None,
        limit: int = 10,
        offset: int = 0,
        score_threshold: float | None = None,
        with_vectors: bool | tuple[str, ...] = False,
        exact: bool = False,
    ) -> list[Hit]:
        search = Search(vector, using, flt, limit, offset, score_threshold, with_vectors, exact)
        return self.search_batch(collection, [search])[0]

    def search_sparse(
        self,
        collection: str,
        vector: SparseVector,
        *,
        using: str = CONCEPTS,
        flt: Filter | None = None,
        limit: int = 10,
        with_vectors: bool | tuple[str, ...] = False,
    ) -> list[Hit]:
        search = Search(vector, using, flt, limit, with_vectors=with_vectors)
        return self.search_batch(collection, [search])[0]

    def search_batch(self, collection: str, searches: Sequence[Search]) -> list[list[Hit]]:
        """Every search in one batch per layer (one round trip to each base's host); an empty
        sparse query matches nothing and is not asked."""

        def ask(asked: list[Search]) -> list[list[Hit]]:
            requests = [
                (search_requests(s, hnsw_ef=self._hnsw_ef), s.flt, s.limit + s.offset)
                for s in asked
            ]
            with self._lock:
                answers = self._get(collection)[1].query_batch(requests)
            return [_hits(s, points) for s, points in zip(asked, answers, strict=True)]

        return skipping_empty(searches, ask)

    # -- builds ----------------------------------------------------------------------------

    def index_state(self, collection: str) -> IndexState:
        with self._lock:
            return self._get(collection)[1].state()

    def optimize(self, collection: str) -> None:
        """Build a base over every point now, in a child process, and wait for the swap.
        Other callers are served meanwhile. IndexUnavailable if the build fails."""
        with self._lock:
            target, opened = self._get(collection)
            if not opened.building() and not opened.start():
                return
        self._builds.wait(target)

    def copy_to(self, dest: str | Path) -> list[str]:
        """A consistent copy of the store in ``dest``: every open shard flushed, then the
        folders copied while this index's lock keeps writes (and searches) waiting. A build in
        progress is left out (the copy opens as if it had not started)."""
        with self._lock:
            skip: set[str] = set()
            for opened in self._catalog.open.values():
                opened.flush()
                if opened.layers.build is not None:
                    skip |= {opened.layers.build.target, f"{opened.layers.build.target}.work"}
            return self._catalog.layout.copy_to(Path(dest), skip=skip)

    def close(self) -> None:
        """Stop the builder thread and any build (the next open forgets it), flush and close."""
        self._builds.stop()
        with self._lock:
            self._catalog.close()


def _hits(search: Search, points: list[Found]) -> list[Hit]:
    """The hits of one search's points: a dense search's past ``offset``, a sparse search's
    with a positive score."""
    wanted = bool(search.with_vectors)
    if isinstance(search.vector, SparseVector):
        return [hit_of(p, p.score, wanted) for p in points if p.score > 0]
    return [hit_of(p, p.score, wanted) for p in points[search.offset :]]
