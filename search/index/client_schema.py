"""How a Loupe collection looks on a Qdrant server: its vectors, quantization and payload
indexes, the model stamp in its metadata, points as client vectors, search parameters, and the
index state read back from the collection info.
"""

from __future__ import annotations

from qdrant_client import QdrantClient
from qdrant_client.http import models as qm

from loupe.search.index.base import (
    BOOL_FIELDS,
    CONCEPTS,
    KEYWORD_FIELDS,
    NUMERIC_FIELDS,
    SEMANTIC,
    TENANT_FIELD,
    VISUAL,
    CollectionNotFound,
    IndexState,
    Point,
)
from loupe.search.index.qdrant_filters import sparse_items
from loupe.search.index.stamp import Stamp
from loupe.search.index.tuning import (
    FULL_SCAN_KB,
    HNSW_EF_CONSTRUCT,
    HNSW_M,
    OVERSAMPLING,
    QUANTILE,
    search_ef,
)

STAMP_KEY = "loupe"


def create_collection(
    client: QdrantClient, name: str, stamp: Stamp, *, shards: int, replicas: int, indexed: bool
) -> None:
    """Create collection ``name`` stamped ``stamp``; ``indexed``: with payload indexes (local
    mode ignores them, and warns)."""
    vectors = {SEMANTIC: qm.VectorParams(size=stamp.dim, distance=qm.Distance.COSINE)}
    if stamp.visual_dim is not None:
        vectors[VISUAL] = qm.VectorParams(size=stamp.visual_dim, distance=qm.Distance.COSINE)
    client.create_collection(
        name,
        vectors_config=vectors,
        sparse_vectors_config={CONCEPTS: qm.SparseVectorParams()},
        shard_number=shards,
        replication_factor=replicas,
        hnsw_config=qm.HnswConfigDiff(
            m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCT, full_scan_threshold=FULL_SCAN_KB
        ),
        quantization_config=qm.ScalarQuantization(
            scalar=qm.ScalarQuantizationConfig(
                type=qm.ScalarType.INT8, quantile=QUANTILE, always_ram=True
            )
        ),
        metadata={STAMP_KEY: stamp.to_json()},
    )
    if indexed:
        _create_payload_indexes(client, name)


def _create_payload_indexes(client: QdrantClient, name: str) -> None:
    for key in KEYWORD_FIELDS:
        client.create_payload_index(name, key, qm.PayloadSchemaType.KEYWORD)
    for key in NUMERIC_FIELDS:
        client.create_payload_index(name, key, qm.PayloadSchemaType.FLOAT)
    for key in BOOL_FIELDS:
        client.create_payload_index(name, key, qm.PayloadSchemaType.BOOL)
    client.create_payload_index(
        name,
        TENANT_FIELD,
        qm.KeywordIndexParams(type=qm.KeywordIndexType.KEYWORD, is_tenant=True),
    )


def read_stamp(client: QdrantClient, name: str) -> Stamp:
    """The model stamp of collection ``name`` (CollectionNotFound: not made by Loupe)."""
    metadata = client.get_collection(name).config.metadata or {}
    raw = metadata.get(STAMP_KEY)
    if not isinstance(raw, dict):
        raise CollectionNotFound(f"collection {name!r} was not created by Loupe")
    return Stamp.from_json(raw)


def client_vectors(point: Point) -> dict[str, list[float] | qm.SparseVector]:
    vectors: dict[str, list[float] | qm.SparseVector] = {
        k: v.tolist() for k, v in point.vectors.items()
    }
    for name, (indices, values) in sparse_items(point).items():
        vectors[name] = qm.SparseVector(indices=indices, values=values)
    return vectors


def search_params(limit: int, offset: int, exact: bool, *, using: str) -> qm.SearchParams:
    """The same breadth and rescoring as ``EdgeIndex`` (see ``search.index.tuning``)."""
    return qm.SearchParams(
        exact=exact,
        hnsw_ef=search_ef(limit, offset, using=using),
        quantization=qm.QuantizationSearchParams(rescore=True, oversampling=OVERSAMPLING),
    )


def index_state(info: qm.CollectionInfo) -> IndexState:
    """Vectors indexed (per named vector) and a yellow status (the optimizer running)."""
    points = info.points_count or 0
    vectors = info.config.params.vectors
    names = len(vectors) if isinstance(vectors, dict) else 1
    indexed = min(points, (info.indexed_vectors_count or 0) // max(1, names))
    return IndexState(
        indexed=indexed,
        pending=points - indexed,
        building=info.status == qm.CollectionStatus.YELLOW,
    )
