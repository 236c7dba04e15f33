"""``NumpyIndex``: an in-process, in-memory ``VectorIndex`` with exact numpy search.

A third adapter beside ``ClientIndex`` and ``EdgeIndex``: no persistence, no ANN, exact dot
product over float32 matrices. It is the exact baseline for benchmarks and a fast real index for
tests. Semantics follow Qdrant where the contract leaves room:

* ranking is by score descending, ties broken by point id ascending (deterministic);
* ``score_threshold`` keeps hits with ``score >= threshold``; ``offset`` applies after filtering;
* filters follow ``search.index.python_filters`` (Qdrant's matching rules, in Python);
* points without the searched vector (text points have no ``visual``) are skipped;
* dropping a collection removes the aliases that point at it.

All methods are thread-safe: writes hold a lock; searches take an immutable snapshot of the
matrices under the lock and score outside it (``memory_collection`` holds the collection, its
snapshot and the ranking).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from loupe.search.index.base import (
    CONCEPTS,
    SEMANTIC,
    CollectionInfo,
    CollectionNotFound,
    Filter,
    Hit,
    IndexState,
    IndexUnavailable,
    ModelMismatch,
    Point,
    Search,
    SparseVector,
)
from loupe.search.index.batching import one_by_one
from loupe.search.index.memory_collection import MemoryCollection, hit_of, rank
from loupe.search.index.python_filters import matches


class NumpyIndex:
    """Exact, in-memory ``VectorIndex`` (see the module docstring for its semantics)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._collections: dict[str, MemoryCollection] = {}
        self._aliases: dict[str, str] = {}
        self._closed = False

    # -- collections and aliases ------------------------------------------------------------
    def _get(self, name: str) -> MemoryCollection:
        if self._closed:
            raise IndexUnavailable("the index is closed")
        target = self._aliases.get(name, name)
        found = self._collections.get(target)
        if found is None:
            raise CollectionNotFound(f"no collection or alias named {name!r}")
        return found

    def _info(self, col: MemoryCollection) -> CollectionInfo:
        aliases = sorted(a for a, target in self._aliases.items() if target == col.name)
        return CollectionInfo(
            name=col.name,
            model_id=col.model_id,
            dim=col.dim,
            visual_dim=col.visual_dim,
            points=len(col.points),
            created_at=col.created_at,
            aliases=aliases,
        )

    def create_collection(
        self, name: str, *, model_id: str, dim: int, visual_dim: int | None
    ) -> None:
        with self._lock:
            if self._closed:
                raise IndexUnavailable("the index is closed")
            existing = self._collections.get(name)
            if existing is not None:
                if (existing.model_id, existing.dim, existing.visual_dim) != (
                    model_id,
                    dim,
                    visual_dim,
                ):
                    raise ModelMismatch(
                        f"collection {name!r} holds {existing.model_id} (dim {existing.dim})"
                    )
                return
            self._collections[name] = MemoryCollection(name, model_id, dim, visual_dim, time.time())

    def open_collection(self, name: str, *, model_id: str, dim: int) -> CollectionInfo:
        with self._lock:
            col = self._get(name)
            if col.model_id != model_id or col.dim != dim:
                raise ModelMismatch(
                    f"collection {col.name!r} holds {col.model_id} (dim {col.dim}), "
                    f"not {model_id} (dim {dim})"
                )
            return self._info(col)

    def collection_info(self, name: str) -> CollectionInfo:
        with self._lock:
            return self._info(self._get(name))

    def list_collections(self) -> list[CollectionInfo]:
        with self._lock:
            return [self._info(c) for _, c in sorted(self._collections.items())]

    def drop_collection(self, name: str) -> None:
        with self._lock:
            self._collections.pop(name, None)
            self._aliases = {a: t for a, t in self._aliases.items() if t != name}

    def set_alias(self, alias: str, collection: str) -> None:
        with self._lock:
            if collection not in self._collections:
                raise CollectionNotFound(f"no collection named {collection!r}")
            self._aliases[alias] = collection

    def resolve_alias(self, alias: str) -> str | None:
        with self._lock:
            return self._aliases.get(alias)

    def delete_alias(self, alias: str) -> None:
        with self._lock:
            self._aliases.pop(alias, None)

    # -- points -----------------------------------------------------------------------------
    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        with self._lock:
            col = self._get(collection)
            dims = col.dims()
            checked: list[Point] = []
            for point in points:
                if SEMANTIC not in point.vectors:
                    raise ValueError(f"point {point.id} has no {SEMANTIC!r} vector")
                vectors: dict[str, NDArray[np.float32]] = {}
                for name, vector in point.vectors.items():
                    array = np.asarray(vector, dtype=np.float32).reshape(-1)
                    if name not in dims or array.shape[0] != dims[name]:
                        raise ValueError(f"point {point.id}: bad vector {name!r}{array.shape}")
                    vectors[name] = array.copy()
                sparse = {k: v for k, v in point.sparse.items() if v}
                if set(sparse) - {CONCEPTS}:
                    raise ValueError(f"point {point.id}: unknown sparse vectors {sorted(sparse)}")
                checked.append(Point(point.id, vectors, copy.deepcopy(point.payload), sparse))
            for point in checked:
                col.points[point.id] = point
            col.snapshot = None

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        with self._lock:
            col = self._get(collection)
            for point_id in ids:
                col.points.pop(point_id, None)
            col.snapshot = None

    def retrieve(
        self, collection: str, ids: Sequence[str], *, with_vectors: bool | tuple[str, ...] = False
    ) -> list[Hit]:
        with self._lock:
            col = self._get(collection)
            found = [col.points[i] for i in ids if i in col.points]
            return [hit_of(p, 1.0, with_vectors) for p in found]

    def count(self, collection: str, flt: Filter | None = None) -> int:
        with self._lock:
            col = self._get(collection)
            if flt is None or flt.is_empty():
                return len(col.points)
            return sum(matches(p.id, p.payload, flt) for p in col.points.values())

    def scroll(
        self,
        collection: str,
        *,
        flt: Filter | None = None,
        limit: int = 256,
        offset: str | None = None,
        with_vectors: bool = False,
    ) -> tuple[list[Hit], str | None]:
        with self._lock:
            col = self._get(collection)
            ids = [i for i in sorted(col.points) if offset is None or i >= offset]
            page: list[Hit] = []
            for point_id in ids:
                point = col.points[point_id]
                if not matches(point_id, point.payload, flt):
                    continue
                if len(page) == limit:
                    return page, point_id
                page.append(hit_of(point, 1.0, with_vectors))
            return page, None

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
            col = self._get(collection)
            dated = [
                (float(value), point)
                for point in col.points.values()
                if isinstance(value := point.payload.get(key), int | float)
                and not isinstance(value, bool)
                and matches(point.id, point.payload, flt)
            ]
            dated.sort(key=lambda pair: pair[0], reverse=descending)
            hits = [hit_of(point, value, False) for value, point in dated[:limit]]
        return hits if with_payload else [replace(h, payload={}) for h in hits]

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
        with self._lock:
            col = self._get(collection)
            if using not in col.dims():
                raise ValueError(f"collection {col.name!r} has no {using!r} vector")
            snap = col.build()
        ranked = rank(
            snap,
            vector,
            using=using,
            flt=flt,
            limit=limit,
            offset=offset,
            score_threshold=score_threshold,
        )
        with self._lock:
            out = []
            for row, score in ranked:
                point = col.points.get(snap.ids[row])
                if point is not None:
                    out.append(hit_of(point, score, with_vectors))
            return out

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
        query = vector.as_dict()
        with self._lock:
            col = self._get(collection)
            scored: list[tuple[float, str]] = []
            for point_id, point in col.points.items():
                stored = point.sparse.get(using)
                if stored is None or not matches(point_id, point.payload, flt):
                    continue
                score = sum(v * query.get(i, 0.0) for i, v in stored.as_dict().items())
                if score > 0:
                    scored.append((-score, point_id))
            scored.sort()
            return [hit_of(col.points[i], -neg, with_vectors) for neg, i in scored[:limit]]

    def search_batch(self, collection: str, searches: Sequence[Search]) -> list[list[Hit]]:
        return one_by_one(self, collection, searches)

    def optimize(self, collection: str) -> None:
        with self._lock:
            self._get(collection)

    def index_state(self, collection: str) -> IndexState:
        """Exact search over every point: all of them count as indexed."""
        return IndexState(indexed=self.count(collection), pending=0)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._collections.clear()
            self._aliases.clear()
