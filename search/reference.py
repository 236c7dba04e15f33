"""Building a collection's ``Reference`` (``search.relevance``) from null queries.

1. The *item axis*: unit mean of the ``semantic`` vectors of up to ``SAMPLE_POINTS`` = 2048
   points, the first in id order (ids are uuid5, so this is a pseudo-random sample). Below
   ``MIN_AXIS_POINTS`` = 8 points it is not used (the mean of a handful of items is mostly the
   items themselves).
2. Each of the 50 ``NULL_QUERIES`` (letter salad, invented words, prose from unrelated domains)
   is embedded as a query and searched (top ``top_k``, unfiltered; fused with its concepts when
   the encoder has a concept route); its relevance is computed with a leave-one-out query axis
   (the mean of the *other* 49), so a null query does not debias itself away.
3. ``cut = q95 + margin x (q95 - q50)`` over those 50 values (``q95``/``q50``: 95th percentile
   and median). Scaling the margin by the spread of the null values keeps it free of the
   encoder's scale. ``strong = cut + (q95 - q50)``: one more spread above.

Cost: embedding 50 texts (done once per model by the caller), 50 top-``top_k`` searches and a
scroll of 2048 vectors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from loupe.search.concepts import ConceptRoute
from loupe.search.fusion import concept_score, fused_search
from loupe.search.index.base import SEMANTIC, VectorIndex
from loupe.search.relevance import EMPTY, Reference, Vector, relevance, unit

SAMPLE_POINTS = 2048
MIN_AXIS_POINTS = 8


def spread(values: Sequence[float]) -> float:
    """``q95 - q50`` of the null queries' relevance values (0 if none)."""
    if not values:
        return 0.0
    q95, q50 = np.percentile(np.asarray(values, dtype=np.float64), [95, 50])
    return float(q95 - q50)


def null_cut(values: Sequence[float], *, margin: float) -> float:
    """``q95 + margin x (q95 - q50)`` of the null queries' relevance values (inf if none)."""
    if not values:
        return math.inf
    q95, q50 = np.percentile(np.asarray(values, dtype=np.float64), [95, 50])
    return float(q95 + margin * (q95 - q50))


def item_axis(
    index: VectorIndex, collection: str, *, sample_points: int = SAMPLE_POINTS
) -> Vector | None:
    """Unit mean of up to ``sample_points`` semantic vectors (None below MIN_AXIS_POINTS)."""
    rows: list[Vector] = []
    offset: str | None = None
    while len(rows) < sample_points:
        limit = min(256, sample_points - len(rows))
        page, offset = index.scroll(collection, limit=limit, offset=offset, with_vectors=True)
        rows += [h.vectors[SEMANTIC] for h in page if h.vectors and SEMANTIC in h.vectors]
        if offset is None:
            break
    if len(rows) < MIN_AXIS_POINTS:
        return None
    return unit(np.mean(np.stack(rows), axis=0))


def build_reference(
    index: VectorIndex,
    collection: str,
    *,
    null_queries: Sequence[str],
    null_vectors: Vector,
    route: ConceptRoute | None,
    concept_weight: float,
    top_k: int,
    margin: float,
    sample_points: int = SAMPLE_POINTS,
) -> Reference:
    """The collection's reference now (see the module docstring); ``null_vectors`` are the
    ``null_queries`` embedded as queries; ``route`` None: the dense route alone."""
    if index.count(collection) == 0:
        return EMPTY
    axis = item_axis(index, collection, sample_points=sample_points)
    total = null_vectors.sum(axis=0)
    values: list[float] = []
    for text, vector in zip(null_queries, null_vectors, strict=True):
        concepts = route.query(text) if route is not None else None
        if concepts:
            hits = fused_search(
                index,
                collection,
                vector,
                concepts,
                weight=concept_weight,
                flt=None,
                limit=top_k,
                with_vectors=(SEMANTIC,),
            )
        else:
            hits = index.search(collection, vector, using=SEMANTIC, limit=top_k, with_vectors=True)
        hits = [h for h in hits if h.vectors and SEMANTIC in h.vectors]
        found = [h.vectors[SEMANTIC] for h in hits if h.vectors]
        weights = concepts.weights if concepts else {}
        bonus = [concept_weight * concept_score(weights, h) for h in hits]
        others = (total - vector) / max(1, len(null_vectors) - 1)
        held_out = Reference(unit(others), axis, math.inf)
        if found:
            values.append(relevance(vector, found, held_out, bonus))
    cut = null_cut(values, margin=margin)
    return Reference(
        query_axis=unit(total / len(null_vectors)),
        item_axis=axis,
        cut=cut,
        null_values=tuple(values),
        strong=cut + spread(values),
    )
