"""Helpers of ``search_batch``: ``skipping_empty`` (what every store does with searches that
match nothing) and ``one_by_one`` (a store with no cheaper way than asking each search in
turn: ``NumpyIndex``, where every search is in process anyway)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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


def skipping_empty(
    searches: Sequence[Search], ask: Callable[[list[Search]], list[list[Hit]]]
) -> list[list[Hit]]:
    """The answers to ``searches`` in order: ``ask`` gets only those that can match anything
    (none when there are none); an empty sparse query's answer is empty."""
    asked = [s for s in searches if not s.matches_nothing]
    answers = iter(ask(asked) if asked else [])
    return [[] if s.matches_nothing else next(answers) for s in searches]
