"""What ``ClientIndex`` sends qdrant-client for a batch of searches (``Search``), and the hits it
reads back: dense searches with the same breadth and rescoring as ``EdgeIndex``, sparse ones
exact by dot product (points scoring 0 are no match)."""

from __future__ import annotations

import numpy as np
from qdrant_client.http import models as qm

from loupe.search.index.base import Hit, Search, SparseVector
from loupe.search.index.client_schema import search_params
from loupe.search.index.qdrant_filters import to_client_filter, to_hit, vector_request


def query_request(search: Search, *, local: bool) -> qm.QueryRequest:
    """``search`` as a query request (local mode is always exact, and warns when given search
    params, so it gets none)."""
    if isinstance(search.vector, SparseVector):
        query = qm.NearestQuery(
            nearest=qm.SparseVector(
                indices=list(search.vector.indices), values=list(search.vector.values)
            )
        )
        return qm.QueryRequest(
            query=query,
            using=search.using,
            filter=to_client_filter(search.flt),
            limit=search.limit,
            with_payload=True,
            with_vector=vector_request(search.with_vectors),
        )
    params = search_params(search.limit, search.offset, search.exact, using=search.using)
    return qm.QueryRequest(
        query=qm.NearestQuery(nearest=np.asarray(search.vector, dtype=np.float32).tolist()),
        using=search.using,
        filter=to_client_filter(search.flt),
        limit=search.limit,
        offset=search.offset,
        score_threshold=search.score_threshold,
        with_payload=True,
        with_vector=vector_request(search.with_vectors),
        params=None if local else params,
    )


def hits_of(search: Search, points: list[qm.ScoredPoint]) -> list[Hit]:
    wanted = bool(search.with_vectors)
    if isinstance(search.vector, SparseVector):
        points = [p for p in points if p.score > 0]
    return [to_hit(p.id, p.score, p.payload, p.vector, wanted) for p in points]
