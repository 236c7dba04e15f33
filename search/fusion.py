"""Fused ranking: the dense route (query vector · ``semantic``) plus the concept route (query
concept weights · an image's ``concepts`` probabilities).

``fused = dense + weight · concept``, a calibrated sum: ``dense`` is the cosine in the shared
space and ``concept`` in [0, 1] is about the probability that the image shows what the query's
words name (``search.concepts.route``). ``weight`` was chosen on the concept eval set
(``loupe eval concepts``; README); rank fusion (RRF) was measured against it there.

Candidates are the union of the best ``limit`` by each route (each carries its ``semantic`` and
``concepts`` vectors, so both scores are exact for every candidate), ranked by the fused score,
ties by id. A query without concepts, or an encoder without a concept route, is the dense route
alone, unchanged. ``why`` names the concepts a hit matched, by their share of its concept score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from loupe.search.concepts import ConceptQuery, ConceptRoute
from loupe.search.concepts.vocab import describe
from loupe.search.index.base import (
    CONCEPTS,
    SEMANTIC,
    Filter,
    Hit,
    Search,
    SparseVector,
    VectorIndex,
)
from loupe.search.query import Why

DEFAULT_WEIGHT = 0.3
WHY_TOP = 3
WHY_MIN = 0.01  # contributions below this (weight x probability) are not worth naming


def route_of(encoder: object) -> ConceptRoute | None:
    """The encoder's concept route, when it has one (the bundled ``v2`` encoders)."""
    route = getattr(encoder, "concept_route", None)
    return route if isinstance(route, ConceptRoute) else None


def steer(
    positive: ConceptQuery, negatives: Sequence[ConceptQuery], *, weight: float
) -> ConceptQuery:
    """``positive - weight · mean(negatives)`` over concepts (the dense route's Rocchio step,
    ``search.query.combine``, on the concept route); concepts only negatives name get negative
    weights, so images of them score lower."""
    if not positive or not negatives:
        return positive
    out = dict(positive.weights)
    for negative in negatives:
        for concept, value in negative.weights.items():
            out[concept] = out.get(concept, 0.0) - weight * value / len(negatives)
    return ConceptQuery(weights=out, words=positive.words, coverage=positive.coverage)


def query_concepts(
    route: ConceptRoute | None, text: str | None, negative_texts: Sequence[str] = ()
) -> ConceptQuery | None:
    """The concepts of a text query, steered away from its negative texts' concepts (weight 1:
    "an animal" without "a cat" gives the cat classes weight 0); None without a route or text."""
    if route is None or text is None:
        return None
    return steer(route.query(text), [route.query(t) for t in negative_texts], weight=1.0)


def concept_evidence(concepts: ConceptQuery | None, hits: Sequence[Hit]) -> dict[str, float]:
    """Each hit's concept evidence (empty without concepts): its concept score (about the
    probability that it shows what the query's concept words name) times the square root of the
    query's ``coverage``, so words that name concepts in passing ("password reset *email*") count
    less than a query that is all concepts (``search.matching.judge``)."""
    if not concepts:
        return {}
    share = math.sqrt(max(0.0, concepts.coverage))
    return {h.id: share * concept_score(concepts.weights, h) for h in hits}


def concept_score(query: Mapping[int, float], hit: Hit) -> float:
    stored = hit.sparse.get(CONCEPTS) if hit.sparse else None
    if stored is None:
        return 0.0
    return sum(v * query.get(i, 0.0) for i, v in zip(stored.indices, stored.values, strict=True))


def fused_search(
    index: VectorIndex,
    collection: str,
    vector: NDArray[np.float32],
    concepts: ConceptQuery,
    *,
    weight: float,
    flt: Filter | None,
    limit: int,
    with_vectors: bool | tuple[str, ...],
    score_threshold: float | None = None,
) -> list[Hit]:
    """The best ``limit`` of both routes' candidates by fused score (see the module docstring);
    hits carry ``semantic`` and ``concepts`` plus what ``with_vectors`` asks. Both routes are
    asked in one batch (``fused_searches``), then fused (``fused_hits``)."""
    searches = fused_searches(vector, concepts, flt=flt, limit=limit, with_vectors=with_vectors)
    answers = index.search_batch(collection, searches)
    return fused_hits(
        index,
        collection,
        answers,
        vector,
        concepts,
        weight=weight,
        limit=limit,
        with_vectors=with_vectors,
        score_threshold=score_threshold,
    )


def _wanted(with_vectors: bool | tuple[str, ...]) -> tuple[str, ...] | None:
    """What the dense route's candidates carry (None: every vector)."""
    if with_vectors is True:
        return None
    return tuple(sorted({*(with_vectors or ()), SEMANTIC, CONCEPTS}))


def fused_searches(
    vector: NDArray[np.float32],
    concepts: ConceptQuery,
    *,
    flt: Filter | None,
    limit: int,
    with_vectors: bool | tuple[str, ...],
) -> list[Search]:
    """The two routes' searches: dense (with what ``with_vectors`` asks) and concepts.

    The concept route's candidates are fetched with only what the fused score reads; the rest
    of ``with_vectors`` (the 1,280-d ``visual`` that folding reads) is fetched afterwards for
    those of them that made the cut (``fused_hits``): most do not, and each such vector cost as
    much to fetch and convert as the search itself (profiled at 100k)."""
    return [
        Search(vector, SEMANTIC, flt, limit, with_vectors=_wanted(with_vectors) or True),
        Search(SparseVector.of(concepts.weights), CONCEPTS, flt, limit, with_vectors=SCORED),
    ]


def fused_hits(
    index: VectorIndex,
    collection: str,
    answers: Sequence[Sequence[Hit]],
    vector: NDArray[np.float32],
    concepts: ConceptQuery,
    *,
    weight: float,
    limit: int,
    with_vectors: bool | tuple[str, ...],
    score_threshold: float | None = None,
) -> list[Hit]:
    """The best ``limit`` by fused score of the answers to ``fused_searches`` (dense, sparse),
    completed with the vectors ``with_vectors`` asks (one retrieval at most)."""
    dense, sparse = answers
    query = np.asarray(vector, dtype=np.float32)
    merged: dict[str, Hit] = {}
    for hit in (*dense, *sparse):
        if hit.id in merged or not hit.vectors or SEMANTIC not in hit.vectors:
            continue
        score = float(hit.vectors[SEMANTIC] @ query)
        score += weight * concept_score(concepts.weights, hit)
        if score_threshold is None or score >= score_threshold:
            merged[hit.id] = Hit(hit.id, score, hit.payload, hit.vectors, hit.sparse)
    kept = sorted(merged.values(), key=lambda h: (-h.score, h.id))[:limit]
    return _completed(index, collection, kept, {h.id for h in dense}, _wanted(with_vectors))


SCORED = (CONCEPTS, SEMANTIC)  # what the fused score reads


def _completed(
    index: VectorIndex,
    collection: str,
    hits: list[Hit],
    full: set[str],
    names: tuple[str, ...] | None,
) -> list[Hit]:
    """``hits`` with every vector ``names`` asks (None: all): those not in ``full`` (found by
    the concept route alone, carrying ``SCORED``) get the rest from the index."""
    if names is not None and set(names) <= set(SCORED):
        return hits
    stored = lacking(index, collection, [h for h in hits if h.id not in full], names or True)
    return [joined(h, stored[h.id]) if h.id not in full and h.id in stored else h for h in hits]


def lacking(
    index: VectorIndex, collection: str, hits: Sequence[Hit], names: bool | tuple[str, ...]
) -> dict[str, Hit]:
    """``hits`` as stored, by id, with the vectors ``names`` asks (True: all) that not all of
    them carry already (the concept route's carry ``SCORED``): one retrieval at most. A hit
    deleted since it was found is missing."""
    if not hits:
        return {}
    if isinstance(names, tuple):
        have = set.intersection(*(set(h.vectors or {}) for h in hits))
        names = tuple(name for name in names if name not in have)
        if not names:
            return {h.id: h for h in hits}
    return {h.id: h for h in index.retrieve(collection, [h.id for h in hits], with_vectors=names)}


def joined(hit: Hit, stored: Hit) -> Hit:
    """``hit`` (its score and payload) with ``stored``'s vectors added to its own."""
    vectors = {**(hit.vectors or {}), **(stored.vectors or {})}
    sparse = {**(hit.sparse or {}), **(stored.sparse or {})}
    return Hit(hit.id, hit.score, hit.payload, vectors, sparse)


def why(route: ConceptRoute, concepts: ConceptQuery, hit: Hit, *, top: int = WHY_TOP) -> list[Why]:
    """The concepts ``hit`` matched, largest contribution first (empty when none)."""
    stored = hit.sparse.get(CONCEPTS) if hit.sparse else None
    if stored is None:
        return []
    parts = [
        (w * v, i)
        for i, v in zip(stored.indices, stored.values, strict=True)
        if (w := concepts.weights.get(i, 0.0)) * v >= WHY_MIN
    ]
    out = []
    for contribution, concept in sorted(parts, reverse=True)[:top]:
        _, local = describe(concept)
        zh = route.lexicon.zh_names[local]
        out.append(Why(concept, route.lexicon.names[local], zh[0] if zh else None, contribution))
    return out
