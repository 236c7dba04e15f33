"""``search_batch`` for a store with no cheaper way than asking each search in turn
(``NumpyIndex``: every search is in process anyway)."""

from __future__ import annotations

from collections.abc import Sequence

from loupe.search.index.base import Hit, Search, SparseVector, VectorIndex


def one_by_one(index: VectorIndex, collection: str, searches: Sequence[Search]) -> list[list[Hit]]:
    out: list[list[Hit]] = []
    for s in searches:
        if isinstance(s.vector, SparseVector):
            hits = index.search_sparse(
                collection,
                s.vector,
                using=s.using,
                flt=s.flt,
                limit=s.limit,
                with_vectors=s.with_vectors,
            )
        else:
            hits = index.search(
                collection,
                s.vector,
                using=s.using,
                flt=s.flt,
                limit=s.limit,
                offset=s.offset,
                score_threshold=s.score_threshold,
                with_vectors=s.with_vectors,
                exact=s.exact,
            )
        out.append(hits)
    return out
