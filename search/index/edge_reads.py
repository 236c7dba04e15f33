"""The read side of an embedded collection's layers (``EdgeCollection`` extends it): every
search, retrieval, count and scroll asks each layer (a tail opened here, or a base's host
process, ``edge_host``) with that layer's tombstones left out, and merges the answers.
Counts are kept per layer and filter until that layer is written (``edge_counts``)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import qdrant_edge as qe

from loupe.search.index.base import Filter
from loupe.search.index.edge_columns import Found
from loupe.search.index.edge_counts import LayerCounts
from loupe.search.index.edge_host import BaseHost
from loupe.search.index.edge_layers import Layers, Tombstones
from loupe.search.index.edge_reader import ShardReader
from loupe.search.index.edge_requests import RequestFactory
from loupe.search.index.python_filters import matches
from loupe.search.index.qdrant_filters import point_ids

Reader = ShardReader | BaseHost
FEW_LEFT_OUT = 64  # ids_not up to this many are subtracted from a kept count


class LayerReads:
    layers: Layers
    tombstones: Tombstones
    shards: dict[str, qe.EdgeShard]  # the layers opened here (tails)
    hosts: dict[str, BaseHost]  # the built bases, each in its host process
    _counts: LayerCounts  # the writer says which layers changed

    def _filter(self, name: str, flt: Filter | None) -> Filter | None:
        dead = self.tombstones.sorted_of(name)
        if dead:
            base = flt or Filter()
            flt = replace(base, ids_not=[*base.ids_not, *dead])
        return flt

    def _layers(self) -> list[tuple[str, Reader]]:
        return [
            (n, ShardReader(self.shards[n]) if n in self.shards else self.hosts[n])
            for n in self.layers.names()
        ]

    def query_batch(
        self, asked: list[tuple[RequestFactory, Filter | None, int]]
    ) -> list[list[Found]]:
        """Each ``(make, flt, limit)``'s best ``limit`` overall, in order: one request batch per
        layer (one round trip to a base's host for the whole batch)."""
        found: list[list[Found]] = [[] for _ in asked]
        for name, layer in self._layers():
            batch = [(make, self._filter(name, flt)) for make, flt, _ in asked]
            answers = layer.query_batch(batch, name == self.layers.tail)
            for part, more in zip(found, answers, strict=True):
                part += more.records()
        for part, (_, _, limit) in zip(found, asked, strict=True):
            part.sort(key=lambda p: -p.score)
            del part[limit:]
        return found

    def retrieve(self, ids: list[str], *, with_vectors: bool) -> list[Found]:
        records: dict[str, Found] = {}
        for name, layer in self._layers():
            dead = self.tombstones.of(name)
            for record in layer.retrieve(ids, with_vectors).records():
                if record.id not in dead:
                    records.setdefault(record.id, record)
        return list(records.values())

    def count(self, flt: Filter | None) -> int:
        """Points ``flt`` keeps. A filter leaving out a few ids (the item of "more like this",
        a query's negative photos) is the count without them, kept, less those of the ids
        that exist and that the rest of the filter keeps: each such filter is new, and an
        uncached count reads every matching point id (7.5 ms at 100k)."""
        if flt is not None and 0 < len(flt.ids_not) <= FEW_LEFT_OUT:
            rest = replace(flt, ids_not=[])
            left_out = self.retrieve(sorted(set(point_ids(flt.ids_not))), with_vectors=False)
            counted = sum(matches(r.id, r.payload, rest) for r in left_out)
            return self.count(None if rest.is_empty() else rest) - counted
        key = repr(flt)
        return sum(
            self._counts.get(name, key, partial(layer.count, self._filter(name, flt)))
            for name, layer in self._layers()
        )

    def scroll(
        self, *, flt: Filter | None, limit: int, offset: str | None, with_vectors: bool
    ) -> tuple[list[Found], str | None]:
        """A page in id order across the layers (uuid order is their text order)."""
        records: list[Found] = []
        for name, layer in self._layers():
            part = layer.scroll(self._filter(name, flt), limit + 1, offset, with_vectors)
            records += part.records()
        records.sort(key=lambda r: r.id)
        following = records[limit].id if len(records) > limit else None
        return records[:limit], following

    def scroll_ordered(
        self, *, key: str, descending: bool, flt: Filter | None, limit: int, with_payload: bool
    ) -> list[Found]:
        """The first ``limit`` by the payload number ``key`` across the layers (each layer's
        payload index on ``key`` orders its part; the parts are merged here)."""
        records: list[Found] = []
        for name, layer in self._layers():
            part = self._filter(name, flt)
            records += layer.scroll_ordered(part, key, descending, limit, with_payload).records()
        records.sort(key=lambda r: r.score, reverse=descending)
        return records[:limit]
