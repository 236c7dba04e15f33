"""The read side of an embedded collection's layers (``EdgeCollection`` extends it): every
search, retrieval, count and scroll asks each layer (a tail opened here, or a base's host
process, ``edge_host``) with that layer's tombstones left out, and merges the answers.
Counts are kept per layer and filter until that layer is written (``edge_counts``)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import qdrant_edge as qe

from loupe.search.index.base import Filter
from loupe.search.index.edge_counts import LayerCounts
from loupe.search.index.edge_host import BaseHost
from loupe.search.index.edge_layers import Layers, Tombstones
from loupe.search.index.edge_reader import Found, ShardReader
from loupe.search.index.edge_requests import RequestFactory

Reader = ShardReader | BaseHost


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

    def query(self, make: RequestFactory, *, flt: Filter | None, limit: int) -> list[Found]:
        """``make(filter, exact)`` builds each layer's request; the best ``limit`` overall."""
        found: list[Found] = []
        for name, layer in self._layers():
            found += layer.query(make, self._filter(name, flt), name == self.layers.tail)
        found.sort(key=lambda p: -p.score)
        return found[:limit]

    def retrieve(self, ids: list[str], *, with_vectors: bool) -> list[Found]:
        records: dict[str, Found] = {}
        for name, layer in self._layers():
            dead = self.tombstones.of(name)
            for record in layer.retrieve(ids, with_vectors):
                if record.id not in dead:
                    records.setdefault(record.id, record)
        return list(records.values())

    def count(self, flt: Filter | None) -> int:
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
            records += layer.scroll(self._filter(name, flt), limit + 1, offset, with_vectors)
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
            records += layer.scroll_ordered(part, key, descending, limit, with_payload)
        records.sort(key=lambda r: r.score, reverse=descending)
        return records[:limit]
