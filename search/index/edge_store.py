"""``EdgeIndex``: the ``VectorIndex`` over qdrant-edge (Qdrant's engine, embedded, on disk).

qdrant-edge has no collections or aliases: each collection is one ``EdgeShard`` in its own
folder with a ``meta.json`` stamp, and aliases live in ``aliases.json`` (see ``edge_layout``).
One process owns the store (a flock on ``<root>/.lock``); a second opener gets
``IndexUnavailable``. The WAL is on: an upsert survives a crash without ``flush()``.

HNSW policy. The engine builds HNSW only in ``optimize()``; points added later are searched
exactly until the next one. ``optimize()`` holds the GIL for its whole run (measured: no other
Python thread runs — 8 s at 10k x 384 on 2 cores, minutes at 100k), so it freezes the owning
process. Exact search stays cheap (~1 ms at 10k, ~23 ms at 100k), so the background optimizer
waits for both ``optimize_after`` new points *and* ``quiet_s`` seconds without any call, then
optimizes that collection. Bulk jobs may call ``optimize()`` themselves when they finish.
The count of new points is kept in memory (after a restart: all points if nothing is indexed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import qdrant_edge as qe
from numpy.typing import NDArray

from loupe.search.index.base import (
    CONCEPTS,
    KEYWORD_FIELDS,
    NUMERIC_FIELDS,
    SEMANTIC,
    TENANT_FIELD,
    VISUAL,
    CollectionInfo,
    CollectionNotFound,
    Filter,
    Hit,
    Point,
    SparseVector,
)
from loupe.search.index.edge_layout import EdgeLayout, check_name
from loupe.search.index.qdrant_filters import (
    point_id,
    point_ids,
    sparse_items,
    to_edge_filter,
    to_hit,
    vector_request,
)
from loupe.search.index.stamp import Stamp, check_stamp
from loupe.search.index.tuning import (
    HNSW_EF,
    HNSW_EF_CONSTRUCT,
    HNSW_M,
    OVERSAMPLING,
    QUANTILE,
    search_ef,
)

log = logging.getLogger(__name__)

# Segments under this size (KB) are searched exactly even when indexed: exact is as fast there.
FULL_SCAN_KB = 1000


@dataclass(slots=True)
class _Open:
    shard: qe.EdgeShard
    stamp: Stamp
    pending: int  # points upserted since the last optimize


class EdgeIndex:
    """A ``VectorIndex`` in the folder ``root``, owned by this process until ``close()``."""

    def __init__(
        self,
        root: str | Path,
        *,
        auto_optimize: bool = True,
        optimize_after: int = 20_000,
        quiet_s: float = 60.0,
        hnsw_ef: int = HNSW_EF,
    ) -> None:
        self._layout = EdgeLayout(root)
        self._closed = False
        self._lock = threading.RLock()
        self._open: dict[str, _Open] = {}
        self._aliases = self._layout.read_aliases()
        self._last_call = time.monotonic()
        self._optimize_after = optimize_after
        self._quiet_s = quiet_s
        self._hnsw_ef = hnsw_ef
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if auto_optimize:
            self._thread = threading.Thread(
                target=self._optimize_loop, name="edge-optimizer", daemon=True
            )
            self._thread.start()

    # -- shards ----------------------------------------------------------------------------

    def _get(self, name: str, *, touch: bool = True) -> tuple[str, _Open]:
        """The open shard of a collection or alias (caller holds the lock)."""
        if touch:
            self._last_call = time.monotonic()
        if self._closed:
            raise RuntimeError("EdgeIndex is closed")
        target = self._aliases.get(name, name)
        if target not in self._open:
            stamp = self._layout.read_meta(check_name(target))
            shard = qe.EdgeShard.load(str(self._layout.shard_path(target)))
            info = shard.info()
            if TENANT_FIELD not in (info.payload_schema or {}):  # made before tenants existed
                _tenant_index(shard)
            pending = info.points_count if info.indexed_vectors_count == 0 else 0
            self._open[target] = _Open(shard, stamp, pending)
        return target, self._open[target]

    def create_collection(
        self, name: str, *, model_id: str, dim: int, visual_dim: int | None
    ) -> None:
        wanted = Stamp(model_id=model_id, dim=dim, visual_dim=visual_dim, created_at=time.time())
        with self._lock:
            if name in self._aliases:
                raise ValueError(f"{name!r} is an alias")
            if (self._layout.folder(name) / "meta.json").exists():
                check_stamp(name, self._layout.read_meta(name), wanted, visual=True)
                return
            self._layout.remove(name)  # an incomplete folder from a crash
            vectors = {SEMANTIC: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)}
            if visual_dim is not None:
                vectors[VISUAL] = qe.EdgeVectorParams(size=visual_dim, distance=qe.Distance.Cosine)
            config = qe.EdgeConfig(
                vectors=vectors,
                sparse_vectors={CONCEPTS: qe.EdgeSparseVectorParams()},
                wal_enabled=True,
                hnsw_config=qe.HnswIndexConfig(
                    m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCT, full_scan_threshold=FULL_SCAN_KB
                ),
                quantization_config=qe.ScalarQuantizationConfig(
                    type=qe.ScalarType.Int8, quantile=QUANTILE, memory=qe.Memory.Pinned
                ),
                optimizers=qe.EdgeOptimizersConfig(indexing_threshold=1),
            )
            shard = qe.EdgeShard.create(str(self._layout.shard_path(name)), config)
            for key in KEYWORD_FIELDS:
                shard.update(
                    qe.UpdateOperation.create_field_index(key, qe.PayloadSchemaType.Keyword)
                )
            for key in NUMERIC_FIELDS:
                shard.update(qe.UpdateOperation.create_field_index(key, qe.PayloadSchemaType.Float))
            _tenant_index(shard)
            shard.flush()
            self._layout.write_meta(name, wanted)
            self._open[name] = _Open(shard, wanted, 0)

    def open_collection(self, name: str, *, model_id: str, dim: int) -> CollectionInfo:
        info = self.collection_info(name)
        have = Stamp(info.model_id, info.dim, info.visual_dim, info.created_at)
        check_stamp(name, have, Stamp(model_id, dim, info.visual_dim, 0.0), visual=False)
        return info

    def collection_info(self, name: str) -> CollectionInfo:
        with self._lock:
            target, opened = self._get(name)
            stamp = opened.stamp
            return CollectionInfo(
                name=target,
                model_id=stamp.model_id,
                dim=stamp.dim,
                visual_dim=stamp.visual_dim,
                points=opened.shard.count(qe.CountRequest(exact=True)),
                created_at=stamp.created_at,
                aliases=sorted(a for a, c in self._aliases.items() if c == target),
            )

    def list_collections(self) -> list[CollectionInfo]:
        with self._lock:
            return [self.collection_info(name) for name in self._layout.names()]

    def drop_collection(self, name: str) -> None:
        with self._lock:
            if name in self._aliases or not (self._layout.folder(name) / "meta.json").exists():
                raise CollectionNotFound(f"no collection named {name!r}")
            opened = self._open.pop(name, None)
            if opened is not None:
                opened.shard.close()
            remaining = {a: c for a, c in self._aliases.items() if c != name}
            if remaining != self._aliases:
                self._layout.write_aliases(remaining)
                self._aliases = remaining
            self._layout.remove(name)

    def set_alias(self, alias: str, collection: str) -> None:
        with self._lock:
            check_name(alias)
            if (self._layout.folder(alias) / "meta.json").exists():
                raise ValueError(f"{alias!r} is a collection, it cannot be an alias")
            if collection in self._aliases:
                raise ValueError(f"{collection!r} is an alias; point aliases at collections")
            self._layout.read_meta(collection)  # CollectionNotFound
            aliases = {**self._aliases, alias: collection}
            self._layout.write_aliases(aliases)
            self._aliases = aliases

    def resolve_alias(self, alias: str) -> str | None:
        with self._lock:
            return self._aliases.get(alias)

    def delete_alias(self, alias: str) -> None:
        with self._lock:
            if alias in self._aliases:
                aliases = {k: v for k, v in self._aliases.items() if k != alias}
                self._layout.write_aliases(aliases)
                self._aliases = aliases

    # -- points ----------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        if not points:
            return
        edge_points = [qe.Point(point_id(p.id), _edge_vectors(p), p.payload) for p in points]
        with self._lock:
            _, opened = self._get(collection)
            opened.shard.update(qe.UpdateOperation.upsert_points(edge_points))
            opened.pending += len(edge_points)

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        wanted: list[qe.PointId] = list(point_ids(ids))
        if not wanted:
            return
        with self._lock:
            self._get(collection)[1].shard.update(qe.UpdateOperation.delete_points(wanted))

    def retrieve(
        self, collection: str, ids: Sequence[str], *, with_vectors: bool = False
    ) -> list[Hit]:
        wanted = point_ids(ids)
        if not wanted:
            return []
        with self._lock:
            shard = self._get(collection)[1].shard
            records = shard.retrieve(list(wanted), with_payload=True, with_vector=with_vectors)
        found = {str(r.id): to_hit(r.id, 1.0, r.payload, r.vector, with_vectors) for r in records}
        return [found[i] for i in wanted if i in found]

    def count(self, collection: str, flt: Filter | None = None) -> int:
        request = qe.CountRequest(exact=True, filter=to_edge_filter(flt))
        with self._lock:
            return self._get(collection)[1].shard.count(request)

    def scroll(
        self,
        collection: str,
        *,
        flt: Filter | None = None,
        limit: int = 256,
        offset: str | None = None,
        with_vectors: bool = False,
    ) -> tuple[list[Hit], str | None]:
        request = qe.ScrollRequest(
            offset=point_id(offset) if offset is not None else None,
            limit=limit,
            filter=to_edge_filter(flt),
            with_payload=True,
            with_vector=with_vectors,
        )
        with self._lock:
            records, next_offset = self._get(collection)[1].shard.scroll(request)
        hits = [to_hit(r.id, 1.0, r.payload, r.vector, with_vectors) for r in records]
        return hits, str(next_offset) if next_offset is not None else None

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
        request = qe.QueryRequest(
            limit=limit,
            offset=offset,
            query=qe.Query.Nearest(np.asarray(vector, dtype=np.float32).tolist(), using=using),
            filter=to_edge_filter(flt),
            score_threshold=score_threshold,
            with_vector=vector_request(with_vectors),
            with_payload=True,
            params=qe.SearchParams(
                exact=exact,
                hnsw_ef=search_ef(limit, offset, floor=self._hnsw_ef),
                quantization=qe.QuantizationSearchParams(rescore=True, oversampling=OVERSAMPLING),
            ),
        )
        with self._lock:
            points = self._get(collection)[1].shard.query(request)
        wanted = bool(with_vectors)
        return [to_hit(p.id, p.score, p.payload, p.vector, wanted) for p in points]

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
        if not vector:
            return []
        request = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(
                qe.SparseVector(list(vector.indices), list(vector.values)), using=using
            ),
            filter=to_edge_filter(flt),
            with_vector=vector_request(with_vectors),
            with_payload=True,
        )
        with self._lock:
            points = self._get(collection)[1].shard.query(request)
        wanted = bool(with_vectors)
        return [to_hit(p.id, p.score, p.payload, p.vector, wanted) for p in points if p.score > 0]

    # -- HNSW ------------------------------------------------------------------------------

    def optimize(self, collection: str) -> None:
        """Build HNSW over every point now. Blocks this whole process (see module docstring)."""
        with self._lock:
            opened = self._get(collection, touch=False)[1]
            opened.shard.optimize()
            opened.pending = 0

    def unindexed_points(self, collection: str) -> int:
        """Points upserted since the last ``optimize`` (searched exactly until the next one)."""
        with self._lock:
            return self._get(collection, touch=False)[1].pending

    def _optimize_loop(self) -> None:
        while not self._stop.wait(min(self._quiet_s, 5.0) or 1.0):
            with self._lock:
                if self._closed or time.monotonic() - self._last_call < self._quiet_s:
                    continue
                due = [n for n, o in self._open.items() if o.pending >= self._optimize_after]
                for name in due:
                    if not self._stop.is_set():
                        self.optimize(name)

    def copy_to(self, dest: str | Path) -> list[str]:
        """A consistent copy of the store in ``dest``: every open shard flushed, then the
        folders copied while this index's lock keeps writes (and searches) waiting."""
        with self._lock:
            for opened in self._open.values():
                opened.shard.flush()
            return self._layout.copy_to(Path(dest))

    def close(self) -> None:
        """Stop the optimizer (waiting for a running optimize), flush and close every shard."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            for name, opened in self._open.items():
                try:
                    opened.shard.flush()
                except Exception as exc:  # e.g. a full disk: the WAL still holds every write
                    log.error("could not flush collection %s on close: %s", name, exc)
                opened.shard.close()
            self._open.clear()
            if not self._closed:
                self._closed = True
                self._layout.release()


def _edge_vectors(point: Point) -> dict[str, qe.NamedVector]:
    vectors: dict[str, qe.NamedVector] = {k: v.tolist() for k, v in point.vectors.items()}
    for name, (indices, values) in sparse_items(point).items():
        vectors[name] = qe.SparseVector(indices, values)
    return vectors


def _tenant_index(shard: qe.EdgeShard) -> None:
    """The tenant keyword index, marked ``is_tenant`` so the engine keeps each tenant's points
    together and plans tenant-filtered searches per tenant."""
    params = qe.KeywordIndexParams(is_tenant=True)
    shard.update(qe.UpdateOperation.create_field_index(TENANT_FIELD, params))
