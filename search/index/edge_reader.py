"""Reading one qdrant-edge shard with our own types in and plain data out, the same way in the
serving process (tails) and in a base's host process (``edge_host``).

Filters come as our ``Filter`` (a base's tombstones already in its ``ids_not``); answers are
``Columns`` (``edge_columns``: they cross the host's pipe cheaply), which the reading side turns
into ``Found`` records.
"""

from __future__ import annotations

import qdrant_edge as qe

from loupe.search.index.base import Filter
from loupe.search.index.edge_columns import Columns, columns
from loupe.search.index.edge_requests import RequestFactory
from loupe.search.index.edge_shards import missing_indexes
from loupe.search.index.qdrant_filters import to_edge_filter


class ShardReader:
    """Searches, retrievals, counts and scrolls of one open shard. ``one_at_a_time``: ask the
    requests of a batch in turn (a shard open in the serving process: each qdrant-edge call
    holds the GIL, and a tail is searched exactly, so a batch in one call would keep every
    other request, ``/healthz`` included, waiting for all of it); otherwise in one engine batch
    (a base in its host process, where nothing else waits on that GIL)."""

    def __init__(self, shard: qe.EdgeShard, *, one_at_a_time: bool = False) -> None:
        self.shard = shard
        self.one_at_a_time = one_at_a_time

    def query_batch(
        self, asked: list[tuple[RequestFactory, Filter | None]], exact: bool
    ) -> list[Columns]:
        """Each request's points, in order."""
        if not asked:
            return []
        requests = [make(to_edge_filter(flt), exact) for make, flt in asked]
        if self.one_at_a_time:
            answers = [self.shard.query(request) for request in requests]
        else:
            answers = self.shard.query_batch(qe.QueryBatchRequest(requests))
        return [columns(points, [float(p.score) for p in points]) for points in answers]

    def retrieve(
        self, ids: list[str], with_vectors: bool | list[str], *, with_payload: bool = True
    ) -> Columns:
        """The points among ``ids``; without ``with_payload``, their payloads are empty."""
        wanted: list[qe.PointId] = list(ids)
        records = self.shard.retrieve(wanted, with_payload=with_payload, with_vector=with_vectors)
        return columns(records, [0.0] * len(records))

    def count(self, flt: Filter | None) -> int:
        return int(self.shard.count(qe.CountRequest(exact=True, filter=to_edge_filter(flt))))

    def missing_indexes(self) -> list[str]:
        return missing_indexes(self.shard)

    def scroll(
        self, flt: Filter | None, limit: int, offset: str | None, with_vectors: bool
    ) -> Columns:
        request = qe.ScrollRequest(
            offset=offset,
            limit=limit,
            filter=to_edge_filter(flt),
            with_payload=True,
            with_vector=with_vectors,
        )
        records = self.shard.scroll(request)[0]
        return columns(records, [0.0] * len(records))

    def scroll_ordered(
        self, flt: Filter | None, key: str, descending: bool, limit: int, with_payload: bool
    ) -> Columns:
        """The first ``limit`` by the payload number ``key``; each one's score is its value."""
        request = qe.ScrollRequest(
            limit=limit,
            filter=to_edge_filter(flt),
            with_payload=with_payload,
            with_vector=False,
            order_by=qe.OrderBy(key, qe.Direction.Desc if descending else qe.Direction.Asc),
        )
        records = self.shard.scroll(request)[0]
        return columns(records, [float(r.order_value or 0) for r in records])
