"""Building a collection's ``Reference`` (``search.relevance``) from null queries.

1. The *item axis*: unit mean of the ``semantic`` vectors of up to ``SAMPLE_POINTS`` = 2048
   points, the first in id order (ids are uuid5, so this is a pseudo-random sample). Below
   ``MIN_AXIS_POINTS`` = 8 points it is not used (the mean of a handful of items is mostly the
   items themselves).
2. Each of the 50 ``NULL_QUERIES`` (letter salad, invented words, prose from unrelated domains)
   is embedded as a query and searched on the dense route (top ``top_k``, unfiltered: the cut
   judges dense evidence only; concept evidence has its own fixed lines, ``search.relevance``);
   its relevance is computed with a leave-one-out query axis (the mean of the *other* 49), so a
   null query does not debias itself away.
3. ``cut = q95 + margin x (q95 - q50)`` over those 50 values (``q95``/``q50``: 95th percentile
   and median). Scaling the margin by the spread of the null values keeps it free of the
   encoder's scale. ``strong = cut + (q95 - q50)``: one more spread above.

Image queries and "more like this" are judged the same way in their own space (``semantic``
for a photo query, ``visual`` for "more like this" where the collection has it): the nulls are
the pictures of nothing of ``search.null_images``, and since the queries are pictures like the
items, both are debiased along the item axis of that space.

Cost: embedding 50 texts or 24 pictures (done once per model by the caller), 50 or 24
top-``top_k`` searches and a scroll of 2048 vectors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

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
    index: VectorIndex,
    collection: str,
    *,
    sample_points: int = SAMPLE_POINTS,
    using: str = SEMANTIC,
) -> Vector | None:
    """Unit mean of up to ``sample_points`` ``using`` vectors (None below MIN_AXIS_POINTS)."""
    rows: list[Vector] = []
    offset: str | None = None
    while len(rows) < sample_points:
        limit = min(256, sample_points - len(rows))
        page, offset = index.scroll(collection, limit=limit, offset=offset, with_vectors=True)
        rows += [h.vectors[using] for h in page if h.vectors and using in h.vectors]
        if offset is None:
            break
    if len(rows) < MIN_AXIS_POINTS:
        return None
    return unit(np.mean(np.stack(rows), axis=0))


def build_reference(
    index: VectorIndex,
    collection: str,
    *,
    null_vectors: Vector,
    top_k: int,
    margin: float,
    sample_points: int = SAMPLE_POINTS,
    using: str = SEMANTIC,
    pictures: bool = False,
) -> Reference:
    """The collection's reference now (see the module docstring): ``null_vectors`` are the null
    queries embedded as queries, or (``pictures``) the null pictures' ``using`` vectors."""
    if index.count(collection) == 0:
        return EMPTY
    axis = item_axis(index, collection, sample_points=sample_points, using=using)
    total = null_vectors.sum(axis=0)
    values: list[float] = []
    for vector in null_vectors:
        hits = index.search(collection, vector, using=using, limit=top_k, with_vectors=(using,))
        found = [h.vectors[using] for h in hits if h.vectors and using in h.vectors]
        others = axis if pictures else unit((total - vector) / max(1, len(null_vectors) - 1))
        if found:
            values.append(relevance(vector, found, Reference(others, axis, math.inf)))
    cut = null_cut(values, margin=margin)
    return Reference(
        query_axis=axis if pictures else unit(total / len(null_vectors)),
        item_axis=axis,
        cut=cut,
        null_values=tuple(values),
        strong=cut + spread(values),
    )
