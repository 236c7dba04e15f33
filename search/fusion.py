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
from loupe.search.index.base import CONCEPTS, SEMANTIC, Filter, Hit, SparseVector, VectorIndex
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
    hits carry ``semantic`` and ``concepts`` plus what ``with_vectors`` asks."""
    names: bool | tuple[str, ...] = with_vectors
    if names is not True:
        names = tuple(sorted({*(names or ()), SEMANTIC, CONCEPTS}))
    dense = index.search(
        collection, vector, using=SEMANTIC, flt=flt, limit=limit, with_vectors=names
    )
    sparse = index.search_sparse(
        collection, SparseVector.of(concepts.weights), flt=flt, limit=limit, with_vectors=names
    )
    query = np.asarray(vector, dtype=np.float32)
    merged: dict[str, Hit] = {}
    for hit in (*dense, *sparse):
        if hit.id in merged or not hit.vectors or SEMANTIC not in hit.vectors:
            continue
        score = float(hit.vectors[SEMANTIC] @ query)
        score += weight * concept_score(concepts.weights, hit)
        if score_threshold is None or score >= score_threshold:
            merged[hit.id] = Hit(hit.id, score, hit.payload, hit.vectors, hit.sparse)
    return sorted(merged.values(), key=lambda h: (-h.score, h.id))[:limit]


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
