"""Translation of our ``Filter`` into the filter models of qdrant-client and of qdrant-edge.

Both engines share Qdrant's filter semantics; only the Python classes differ. Every part of a
``Filter`` is ANDed: ``equals`` → match value, ``any_of`` and ``tags_any`` → match any,
``all_of`` → one match value per element, ``ranges`` → inclusive float range, ``ids_not`` →
``must_not`` has-id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import qdrant_edge as qe
from numpy.typing import NDArray

from loupe.search.index.base import Filter, Hit, Point, SparseVector

if TYPE_CHECKING:  # qdrant-client takes seconds to import: only its own adapter loads it
    from qdrant_client.http import models as qm

TAGS_FIELD = "tags"


def point_id(value: str) -> str:
    """The canonical form of a UUID point id (lower case, hyphenated); ValueError otherwise."""
    return str(uuid.UUID(value))


def point_ids(values: Iterable[str]) -> list[str]:
    """The canonical forms of the well-formed ids among ``values``. Malformed ids are dropped:
    no point can have one, so lookups, deletes and exclusions simply do not match them."""
    wanted: list[str] = []
    for value in values:
        try:
            wanted.append(point_id(value))
        except (ValueError, TypeError, AttributeError):
            continue
    return wanted


def to_client_filter(flt: Filter | None) -> qm.Filter | None:
    from qdrant_client.http import models as qm

    """The qdrant-client model of ``flt``; None when there is nothing to filter."""
    if flt is None or flt.is_empty():
        return None
    must: list[qm.Condition] = []
    for key, value in flt.equals.items():
        must.append(qm.FieldCondition(key=key, match=qm.MatchValue(value=value)))
    for key, values in flt.any_of.items():
        must.append(qm.FieldCondition(key=key, match=_client_any(values)))
    for key, values in flt.all_of.items():
        must.extend(qm.FieldCondition(key=key, match=qm.MatchValue(value=v)) for v in values)
    for key, rng in flt.ranges.items():
        must.append(qm.FieldCondition(key=key, range=qm.Range(gte=rng.gte, lte=rng.lte)))
    if flt.tags_any:
        must.append(qm.FieldCondition(key=TAGS_FIELD, match=_client_any(list(flt.tags_any))))
    must_not: list[qm.Condition] = []
    ids: list[qm.ExtendedPointId] = list(point_ids(flt.ids_not))
    if ids:
        must_not.append(qm.HasIdCondition(has_id=ids))
    return qm.Filter(must=must or None, must_not=must_not or None)


def to_edge_filter(flt: Filter | None) -> qe.Filter | None:
    """The qdrant-edge model of ``flt``; None when there is nothing to filter."""
    if flt is None or flt.is_empty():
        return None
    must: list[qe.ConditionType] = []
    for key, value in flt.equals.items():
        must.append(qe.FieldCondition(key=key, match=qe.MatchValue(value)))
    for key, values in flt.any_of.items():
        must.append(qe.FieldCondition(key=key, match=_edge_any(values)))
    for key, values in flt.all_of.items():
        must.extend(qe.FieldCondition(key=key, match=qe.MatchValue(v)) for v in values)
    for key, rng in flt.ranges.items():
        must.append(qe.FieldCondition(key=key, range=qe.RangeFloat(gte=rng.gte, lte=rng.lte)))
    if flt.tags_any:
        must.append(qe.FieldCondition(key=TAGS_FIELD, match=_edge_any(list(flt.tags_any))))
    must_not: list[qe.ConditionType] = []
    edge_ids: set[qe.PointId] = set(point_ids(flt.ids_not))
    if edge_ids:
        must_not.append(qe.HasIdCondition(edge_ids))
    return qe.Filter(must=must or None, must_not=must_not or None)


def _split(values: list[str | int]) -> tuple[list[str], list[int]]:
    strings = [v for v in values if isinstance(v, str)]
    ints = [v for v in values if not isinstance(v, str)]
    return strings, ints


def _client_any(values: list[str | int]) -> qm.Match:
    from qdrant_client.http import models as qm

    strings, ints = _split(values)
    if strings and ints:
        raise ValueError("any_of mixes strings and integers")
    return qm.MatchAny(any=strings if strings else ints)


def _edge_any(values: list[str | int]) -> qe.MatchType:
    strings, ints = _split(values)
    if strings and ints:
        raise ValueError("any_of mixes strings and integers")
    return qe.MatchAny(strings if strings else ints)


def vector_request(with_vectors: bool | tuple[str, ...]) -> bool | list[str]:
    """``with_vectors`` as both engines take it: all, none, or a list of names."""
    return list(with_vectors) if isinstance(with_vectors, tuple) else with_vectors


def to_hit(pid: object, score: float, payload: Any, vector: Any, with_vectors: bool) -> Hit:
    """Our ``Hit`` from a record or scored point of either engine (named vectors as dicts;
    sparse ones, objects with ``indices`` and ``values``, go to ``Hit.sparse``)."""
    vectors: dict[str, NDArray[np.float32]] | None = None
    sparse: dict[str, SparseVector] | None = None
    if with_vectors and isinstance(vector, dict):
        vectors, sparse = {}, {}
        for name, value in vector.items():
            if hasattr(value, "indices"):
                sparse[name] = SparseVector(
                    tuple(int(i) for i in value.indices), tuple(float(v) for v in value.values)
                )
            else:
                vectors[name] = np.asarray(value, dtype=np.float32)
    return Hit(
        id=str(pid), score=float(score), payload=dict(payload or {}), vectors=vectors, sparse=sparse
    )


def sparse_items(point: Point) -> dict[str, tuple[list[int], list[float]]]:
    """A point's non-empty sparse vectors as (indices, values) lists, for either engine."""
    return {k: (list(v.indices), list(v.values)) for k, v in point.sparse.items() if v}
