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

4. *Object nulls* (text queries, encoders with a concept route): the names of every
   ``OBJECT_STRIDE``-th ImageNet class ("tabby cat", "violin"), embedded as queries. A name
   is a null of this collection when the classifier gives its class less than the concept line
   (``CONCEPT_MATCH``) on every photo of its dense window: a thing the collection does not
   show. Their relevances (same query axis) give ``object_cut = q95 + object_margin x (q95 -
   q50)``, the dense cut of a query made of concept words (``Reference.match``). Null queries
   are letter salad and prose, and with a text tower that maps real words far from those
   ("a violin", "笔记本电脑"), a thing a collection lacks still scores well above them on a
   photo whose classes lie near it.

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
from dataclasses import dataclass

import numpy as np

from loupe.search.index.base import CONCEPTS, SEMANTIC, Hit, Search, VectorIndex
from loupe.search.relevance import CONCEPT_MATCH, EMPTY, Reference, Vector, relevance, unit

SAMPLE_POINTS = 2048
MIN_AXIS_POINTS = 8
OBJECT_STRIDE = 5  # every 5th ImageNet class name is an object null (200)


@dataclass(frozen=True, slots=True)
class ObjectNulls:
    """Names of concepts embedded as queries (``vectors``, one row per concept id of
    ``concepts``) and the margin of their cut."""

    vectors: Vector
    concepts: tuple[int, ...]
    margin: float


def _absent(hits: Sequence[Hit], concept: int) -> bool:
    """Whether no hit's classifier gives ``concept`` the concept line."""
    for hit in hits:
        stored = hit.sparse.get(CONCEPTS) if hit.sparse else None
        if stored is not None and any(
            i == concept and v >= CONCEPT_MATCH
            for i, v in zip(stored.indices, stored.values, strict=True)
        ):
            return False
    return True


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
    objects: ObjectNulls | None = None,
) -> Reference:
    """The collection's reference now (see the module docstring): ``null_vectors`` are the null
    queries embedded as queries, or (``pictures``) the null pictures' ``using`` vectors;
    ``objects``: the object nulls of a text space (None: no ``object_cut``)."""
    if index.count(collection) == 0:
        return EMPTY
    axis = item_axis(index, collection, sample_points=sample_points, using=using)
    total = null_vectors.sum(axis=0)
    values: list[float] = []
    searches = [Search(v, using, limit=top_k, with_vectors=(using,)) for v in null_vectors]
    for vector, hits in zip(null_vectors, batched(index, collection, searches), strict=True):
        found = [h.vectors[using] for h in hits if h.vectors and using in h.vectors]
        others = axis if pictures else unit((total - vector) / max(1, len(null_vectors) - 1))
        if found:
            values.append(relevance(vector, found, Reference(others, axis, math.inf)))
    cut = null_cut(values, margin=margin)
    query_axis = axis if pictures else unit(total / len(null_vectors))
    reference = Reference(query_axis, axis, cut, tuple(values), cut + spread(values))
    if objects is None:
        return reference
    found_values = _object_values(index, collection, reference, objects, top_k=top_k)
    return Reference(
        query_axis=query_axis,
        item_axis=axis,
        cut=cut,
        null_values=tuple(values),
        strong=cut + spread(values),
        object_cut=null_cut(found_values, margin=objects.margin) if found_values else None,
        object_values=tuple(found_values),
    )


def _object_values(
    index: VectorIndex,
    collection: str,
    reference: Reference,
    objects: ObjectNulls,
    *,
    top_k: int,
) -> list[float]:
    """The relevance of each object null the collection does not show (``_absent``)."""
    values: list[float] = []
    searches = [Search(v, limit=top_k, with_vectors=(SEMANTIC, CONCEPTS)) for v in objects.vectors]
    answers = batched(index, collection, searches)
    for vector, concept, hits in zip(objects.vectors, objects.concepts, answers, strict=True):
        if _absent(hits, concept):
            found = [h.vectors[SEMANTIC] for h in hits if h.vectors and SEMANTIC in h.vectors]
            if found:
                values.append(relevance(vector, found, reference))
    return values


BATCH = 16  # null queries per search_batch: a few round trips, each holding the index briefly


def batched(index: VectorIndex, collection: str, searches: list[Search]) -> list[list[Hit]]:
    """The answers to ``searches``, asked ``BATCH`` at a time."""
    out: list[list[Hit]] = []
    for start in range(0, len(searches), BATCH):
        out += index.search_batch(collection, searches[start : start + BATCH])
    return out
