"""How the embedded store's shards are configured: bases (built in a child process, HNSW over
int8 copies in RAM, float originals on disk) and tails (small, exact, in RAM).

Bases have no WAL: only the builder writes them, and it flushes before it exits.

Memory per point of a base (see BENCHMARKS.md for measurements): the ``semantic`` int8 copy
(384 B) is pinned in RAM and its HNSW graph cached; float32 originals (used only to rescore the
best ``OVERSAMPLING x limit`` candidates) stay on disk, as do the ``visual`` originals (float16)
and the payload. The ``visual`` int8 copy and graph are memory-mapped: they are paged in only by
image-to-image searches.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from loupe.search.index.base import (
    BOOL_FIELDS,
    CONCEPTS,
    KEYWORD_FIELDS,
    NUMERIC_FIELDS,
    SEMANTIC,
    TENANT_FIELD,
    VISUAL,
)
from loupe.search.index.stamp import Stamp
from loupe.search.index.tuning import FULL_SCAN_KB, HNSW_EF_CONSTRUCT, HNSW_M, QUANTILE

# A tail is never indexed (nothing optimizes it); exact search over it stays cheap.
NEVER = 2**62
# One search thread per shard. qdrant-edge's default is a pool sized by the CPUs (8 threads on
# this 2-core machine) that runs a request's segments in parallel. A base is one large segment
# and a small appendable one, so the pool gains nothing idle (batches of 3 searches at 100k:
# p50 8.4 vs 7.8-8.7 ms) and loses under load: with three busy nice-10 processes beside it (as
# ingestion runs) p95 19.5 vs 12.1-12.3 ms, max 23-31 vs 15 ms, since a batch waits for its
# slowest thread while the others wait for a core (``loupe bench serve``: the base's host
# then spent 0.4-1.2 s of its threads' time on the run queue per slow search).
SEARCH_THREADS = 1


def _quantized(memory: qe.Memory) -> qe.ScalarQuantizationConfig:
    return qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8, quantile=QUANTILE, memory=memory)


def _graph(memory: qe.Memory) -> qe.HnswIndexConfig:
    return qe.HnswIndexConfig(
        m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCT, full_scan_threshold=FULL_SCAN_KB, memory=memory
    )


def base_config(stamp: Stamp) -> qe.EdgeConfig:
    vectors = {
        SEMANTIC: qe.EdgeVectorParams(
            size=stamp.dim,
            distance=qe.Distance.Cosine,
            memory=qe.Memory.Cold,
            quantization_config=_quantized(qe.Memory.Pinned),
        )
    }
    if stamp.visual_dim is not None:
        vectors[VISUAL] = qe.EdgeVectorParams(
            size=stamp.visual_dim,
            distance=qe.Distance.Cosine,
            memory=qe.Memory.Cold,
            datatype=qe.VectorStorageDatatype.Float16,
            quantization_config=_quantized(qe.Memory.Cold),
            hnsw_config=_graph(qe.Memory.Cold),
        )
    return qe.EdgeConfig(
        vectors=vectors,
        sparse_vectors={CONCEPTS: qe.EdgeSparseVectorParams()},
        # No WAL: the builder flushes before it exits and nothing writes a base after that
        # (deletes are tombstones, edge_layers). A WAL here held every upsert of every build
        # (~7 KB a point) and was replayed by each load, in the serving process, holding the GIL.
        wal_enabled=False,
        hnsw_config=_graph(qe.Memory.Cached),
        payload_memory=qe.Memory.Cold,
        optimizers=qe.EdgeOptimizersConfig(indexing_threshold=1, default_segment_number=1),
        max_search_threads=SEARCH_THREADS,
    )


def tail_config(stamp: Stamp) -> qe.EdgeConfig:
    vectors = {SEMANTIC: qe.EdgeVectorParams(size=stamp.dim, distance=qe.Distance.Cosine)}
    if stamp.visual_dim is not None:
        vectors[VISUAL] = qe.EdgeVectorParams(size=stamp.visual_dim, distance=qe.Distance.Cosine)
    return qe.EdgeConfig(
        vectors=vectors,
        sparse_vectors={CONCEPTS: qe.EdgeSparseVectorParams()},
        wal_enabled=True,
        optimizers=qe.EdgeOptimizersConfig(indexing_threshold=NEVER),
        max_search_threads=SEARCH_THREADS,
    )


def _indexes() -> dict[str, qe.PayloadSchemaType]:
    return {
        **dict.fromkeys(KEYWORD_FIELDS, qe.PayloadSchemaType.Keyword),
        **dict.fromkeys(NUMERIC_FIELDS, qe.PayloadSchemaType.Float),
        **dict.fromkeys(BOOL_FIELDS, qe.PayloadSchemaType.Bool),
    }


def create_shard(path: Path, config: qe.EdgeConfig) -> qe.EdgeShard:
    """A new shard at ``path`` with Loupe's payload indexes, flushed."""
    shard = qe.EdgeShard.create(str(path), config)
    for key, schema in _indexes().items():
        shard.update(qe.UpdateOperation.create_field_index(key, schema))
    tenant_index(shard)
    shard.flush()
    return shard


def tenant_index(shard: qe.EdgeShard) -> None:
    """The tenant keyword index, marked ``is_tenant`` so the engine keeps each tenant's points
    together and plans tenant-filtered searches per tenant."""
    params = qe.KeywordIndexParams(is_tenant=True)
    shard.update(qe.UpdateOperation.create_field_index(TENANT_FIELD, params))


def missing_indexes(shard: qe.EdgeShard) -> list[str]:
    """The payload indexes ``shard`` lacks (it was made before they existed)."""
    have = shard.info().payload_schema or {}
    return [key for key in (*_indexes(), TENANT_FIELD) if key not in have]


def add_indexes(shard: qe.EdgeShard) -> None:
    """Give ``shard`` the payload indexes it lacks, each built over the points it holds. Only
    for a shard its caller writes: a tail in the serving process, a base in its builder."""
    wanted = _indexes()
    for key in missing_indexes(shard):
        if key == TENANT_FIELD:
            tenant_index(shard)
        else:
            shard.update(qe.UpdateOperation.create_field_index(key, wanted[key]))


def load_shard(path: Path, *, writable: bool = True) -> qe.EdgeShard:
    """An existing shard, searching with ``SEARCH_THREADS``; a ``writable`` one (a tail) is
    given the payload indexes it lacks. A base is never written by the serving process: one that
    lacks some is rebuilt (``due``)."""
    shard = qe.EdgeShard.load(str(path), _threads_config(path))
    if writable:
        add_indexes(shard)
    return shard


def _threads_config(path: Path) -> qe.EdgeConfig | None:
    """For a shard made before ``SEARCH_THREADS``: a config that sets it and keeps the rest
    (what a load leaves unspecified it keeps; it needs some vector, so the sparse ones are
    restated). None when nothing is to change, or where there is no sparse vector to restate."""
    config = _persisted(path)
    if config is None:
        return None
    sparse = config.get("sparse_vectors") or {}
    if config.get("max_search_threads") == SEARCH_THREADS or not sparse:
        return None
    params = {name: qe.EdgeSparseVectorParams() for name in sparse}
    return qe.EdgeConfig(sparse_vectors=params, max_search_threads=SEARCH_THREADS)


def has_wal(path: Path) -> bool:
    """Whether the shard at ``path`` was created with a WAL (bases built before they had none)."""
    config = _persisted(path)
    return config is None or config.get("wal_enabled") is not False


def _persisted(path: Path) -> dict[str, Any] | None:
    """The config qdrant-edge keeps beside the shard at ``path`` (None: none readable)."""
    try:
        config = json.loads((path / "edge_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def point_count(shard: qe.EdgeShard) -> int:
    return int(shard.count(qe.CountRequest(exact=True)))
