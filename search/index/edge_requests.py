"""What ``EdgeIndex`` hands qdrant-edge: points as edge vectors, and the factories that build a
query request per layer (``EdgeCollection.query_batch`` calls one with each layer's filter and
whether that layer is searched exactly). The factories are plain data: they pickle to the
process that hosts a base (``edge_host``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import qdrant_edge as qe
from numpy.typing import NDArray

from loupe.search.index.base import Point, Search, SparseVector
from loupe.search.index.qdrant_filters import sparse_items, vector_request
from loupe.search.index.tuning import OVERSAMPLING, search_ef

RequestFactory = Callable[[qe.Filter | None, bool], qe.QueryRequest]


def edge_vectors(point: Point) -> dict[str, qe.NamedVector]:
    vectors: dict[str, qe.NamedVector] = {k: v.tolist() for k, v in point.vectors.items()}
    for name, (indices, values) in sparse_items(point).items():
        vectors[name] = qe.SparseVector(indices, values)
    return vectors


@dataclass(frozen=True, slots=True)
class DenseRequests:
    """Nearest ``limit`` by ``vector`` (quantized, rescored, oversampled; exact on an exact layer
    or when ``exact``). Plain data, so it pickles to a base's host process."""

    vector: list[float]
    using: str
    limit: int
    score_threshold: float | None
    with_vectors: bool | tuple[str, ...]
    exact: bool
    hnsw_ef: int
    oversampling: float

    def __call__(self, edge_filter: qe.Filter | None, exact_layer: bool) -> qe.QueryRequest:
        return qe.QueryRequest(
            limit=self.limit,
            query=qe.Query.Nearest(self.vector, using=self.using),
            filter=edge_filter,
            score_threshold=self.score_threshold,
            with_vector=vector_request(self.with_vectors),
            with_payload=True,
            params=qe.SearchParams(
                exact=self.exact or exact_layer,
                hnsw_ef=self.hnsw_ef,
                quantization=qe.QuantizationSearchParams(
                    rescore=True, oversampling=self.oversampling
                ),
            ),
        )


@dataclass(frozen=True, slots=True)
class SparseRequests:
    """Top ``limit`` by dot product with the sparse vector (plain data, like ``DenseRequests``)."""

    indices: list[int]
    values: list[float]
    using: str
    limit: int
    with_vectors: bool | tuple[str, ...]

    def __call__(self, edge_filter: qe.Filter | None, _exact: bool) -> qe.QueryRequest:
        return qe.QueryRequest(
            limit=self.limit,
            query=qe.Query.Nearest(qe.SparseVector(self.indices, self.values), using=self.using),
            filter=edge_filter,
            with_vector=vector_request(self.with_vectors),
            with_payload=True,
        )


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
    """Nearest ``limit + offset`` by ``vector`` (see ``DenseRequests``)."""
    return DenseRequests(
        vector=np.asarray(vector, dtype=np.float32).tolist(),
        using=using,
        limit=limit + offset,
        score_threshold=score_threshold,
        with_vectors=with_vectors,
        exact=exact,
        hnsw_ef=search_ef(limit, offset, using=using, floor=hnsw_ef),
        oversampling=OVERSAMPLING,
    )


def sparse_requests(
    vector: SparseVector, *, using: str, limit: int, with_vectors: bool | tuple[str, ...]
) -> RequestFactory:
    """Top ``limit`` by dot product with the sparse ``vector``."""
    return SparseRequests(
        indices=list(vector.indices),
        values=list(vector.values),
        using=using,
        limit=limit,
        with_vectors=with_vectors,
    )


def search_requests(search: Search, *, hnsw_ef: int) -> RequestFactory:
    """The factory of ``search`` (dense or sparse); it asks for ``limit + offset`` points."""
    if isinstance(search.vector, SparseVector):
        return sparse_requests(
            search.vector, using=search.using, limit=search.limit, with_vectors=search.with_vectors
        )
    return dense_requests(
        search.vector,
        using=search.using,
        limit=search.limit,
        offset=search.offset,
        score_threshold=search.score_threshold,
        with_vectors=search.with_vectors,
        exact=search.exact,
        hnsw_ef=hnsw_ef,
    )


def vectors_of(make: RequestFactory) -> bool | tuple[str, ...]:
    """The vectors the requests of ``make`` return (all, none, or those named)."""
    wanted: bool | tuple[str, ...] = getattr(make, "with_vectors", False)
    return wanted


def bare(make: RequestFactory) -> RequestFactory:
    """``make`` asking for no vectors (its points' ids, scores and payloads only)."""
    if isinstance(make, DenseRequests | SparseRequests) and make.with_vectors:
        return replace(make, with_vectors=False)
    return make
