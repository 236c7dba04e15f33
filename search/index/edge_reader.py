"""Reading one qdrant-edge shard with our own types in and plain data out, the same way in the
serving process (tails) and in a base's host process (``edge_host``).

Filters come as our ``Filter`` (a base's tombstones already in its ``ids_not``); answers are
``Found`` records, which pickle (they cross the host's pipe) and which ``to_hit`` reads like
the engine's own points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import qdrant_edge as qe

from loupe.search.index.base import Filter, SparseVector
from loupe.search.index.edge_requests import RequestFactory
from loupe.search.index.qdrant_filters import to_edge_filter


@dataclass(frozen=True, slots=True)
class Found:
    """A scored point or a record (score 0, or the order value of an ordered scroll)."""

    id: str
    score: float
    payload: dict[str, Any]
    vector: dict[str, Any] | None


def _found(point: Any, score: float) -> Found:
    vector = None
    if isinstance(point.vector, dict):
        vector = {
            name: SparseVector(tuple(value.indices), tuple(value.values))
            if hasattr(value, "indices")
            else value
            for name, value in point.vector.items()
        }
    return Found(str(point.id), score, dict(point.payload or {}), vector)


class ShardReader:
    """Searches, retrievals, counts and scrolls of one open shard."""

    def __init__(self, shard: qe.EdgeShard) -> None:
        self.shard = shard

    def query(self, make: RequestFactory, flt: Filter | None, exact: bool) -> list[Found]:
        points = self.shard.query(make(to_edge_filter(flt), exact))
        return [_found(p, float(p.score)) for p in points]

    def retrieve(self, ids: list[str], with_vectors: bool) -> list[Found]:
        wanted: list[qe.PointId] = list(ids)
        records = self.shard.retrieve(wanted, with_payload=True, with_vector=with_vectors)
        return [_found(r, 0.0) for r in records]

    def count(self, flt: Filter | None) -> int:
        return int(self.shard.count(qe.CountRequest(exact=True, filter=to_edge_filter(flt))))

    def scroll(
        self, flt: Filter | None, limit: int, offset: str | None, with_vectors: bool
    ) -> list[Found]:
        request = qe.ScrollRequest(
            offset=offset,
            limit=limit,
            filter=to_edge_filter(flt),
            with_payload=True,
            with_vector=with_vectors,
        )
        return [_found(r, 0.0) for r in self.shard.scroll(request)[0]]

    def scroll_ordered(
        self, flt: Filter | None, key: str, descending: bool, limit: int, with_payload: bool
    ) -> list[Found]:
        """The first ``limit`` by the payload number ``key``; each one's score is its value."""
        request = qe.ScrollRequest(
            limit=limit,
            filter=to_edge_filter(flt),
            with_payload=with_payload,
            with_vector=False,
            order_by=qe.OrderBy(key, qe.Direction.Desc if descending else qe.Direction.Asc),
        )
        return [_found(r, float(r.order_value or 0)) for r in self.shard.scroll(request)[0]]
