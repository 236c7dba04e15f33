"""What ``EdgeIndex`` hands qdrant-edge: points as edge vectors, and the factories that build a
query request per layer (``EdgeCollection.query`` calls one with each layer's filter and
whether that layer is searched exactly).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import qdrant_edge as qe
from numpy.typing import NDArray

from loupe.search.index.base import Point, SparseVector
from loupe.search.index.qdrant_filters import sparse_items, vector_request
from loupe.search.index.tuning import OVERSAMPLING, search_ef

RequestFactory = Callable[[qe.Filter | None, bool], qe.QueryRequest]


def edge_vectors(point: Point) -> dict[str, qe.NamedVector]:
    vectors: dict[str, qe.NamedVector] = {k: v.tolist() for k, v in point.vectors.items()}
    for name, (indices, values) in sparse_items(point).items():
        vectors[name] = qe.SparseVector(indices, values)
    return vectors


def dense_requests(
    vector: NDArray[np.float32],
    *,
    using: str,
    limit: int,
    offset: int,
    score_threshold: float | None,
    with_vectors: bool | tuple[str, ...],
    exact: bool,
    hnsw_ef: int,
) -> RequestFactory:
    """Nearest ``limit + offset`` by ``vector`` (quantized, rescored, oversampled; exact on an
    exact layer or when ``exact``)."""
    query = qe.Query.Nearest(np.asarray(vector, dtype=np.float32).tolist(), using=using)
    ef = search_ef(limit, offset, floor=hnsw_ef)

    def make(edge_filter: qe.Filter | None, exact_layer: bool) -> qe.QueryRequest:
        return qe.QueryRequest(
            limit=limit + offset,
            query=query,
            filter=edge_filter,
            score_threshold=score_threshold,
            with_vector=vector_request(with_vectors),
            with_payload=True,
            params=qe.SearchParams(
                exact=exact or exact_layer,
                hnsw_ef=ef,
                quantization=qe.QuantizationSearchParams(rescore=True, oversampling=OVERSAMPLING),
            ),
        )

    return make


def sparse_requests(
    vector: SparseVector, *, using: str, limit: int, with_vectors: bool | tuple[str, ...]
) -> RequestFactory:
    """Top ``limit`` by dot product with the sparse ``vector``."""
    query = qe.Query.Nearest(
        qe.SparseVector(list(vector.indices), list(vector.values)), using=using
    )

    def make(edge_filter: qe.Filter | None, _exact: bool) -> qe.QueryRequest:
        return qe.QueryRequest(
            limit=limit,
            query=query,
            filter=edge_filter,
            with_vector=vector_request(with_vectors),
            with_payload=True,
        )

    return make
