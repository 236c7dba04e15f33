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
from loupe.search.index.edge_memo import VectorMemo
from loupe.search.index.edge_reader import ShardReader
from loupe.search.index.edge_requests import RequestFactory, bare, vectors_of
from loupe.search.index.python_filters import matches
from loupe.search.index.qdrant_filters import point_ids, vector_request

Reader = ShardReader | BaseHost
FEW_LEFT_OUT = 64  # ids_not up to this many are subtracted from a kept count


class LayerReads:
    layers: Layers
    tombstones: Tombstones
    shards: dict[str, qe.EdgeShard]  # the layers opened here (tails)
    hosts: dict[str, BaseHost]  # the built bases, each in its host process
    _counts: LayerCounts  # the writer says which layers changed
    _memo: VectorMemo  # the vectors of tail points read; the writer says which changed

    def _filter(self, name: str, flt: Filter | None) -> Filter | None:
        dead = self.tombstones.sorted_of(name)
        if dead:
            base = flt or Filter()
            flt = replace(base, ids_not=[*base.ids_not, *dead])
        return flt

    def _layers(self) -> list[tuple[str, Reader]]:
        return [
            (
                n,
                ShardReader(self.shards[n], one_at_a_time=True)
                if n in self.shards
                else self.hosts[n],
            )
            for n in self.layers.names()
        ]

    def query_batch(
        self, asked: list[tuple[RequestFactory, Filter | None, int]]
    ) -> list[list[Found]]:
        """Each ``(make, flt, limit)``'s best ``limit`` overall, in order: one request batch per
        layer (one round trip to a base's host for the whole batch). A layer opened here is
        asked without vectors; those of its points that make the cut get theirs afterwards
        (``_local_vectors``)."""
        found: list[list[tuple[str | None, Found]]] = [[] for _ in asked]
        for name, layer in self._layers():
            local = isinstance(layer, ShardReader)
            if local and self._empty(name, layer):
                continue  # the tail after a build, until the next write: ~0.1 ms a request
            batch = [
                (bare(make) if local else make, self._filter(name, flt)) for make, flt, _ in asked
            ]
            answers = layer.query_batch(batch, name == self.layers.tail)
            for part, more in zip(found, answers, strict=True):
                part += [(name if local else None, record) for record in more.records()]
        for part, (_, _, limit) in zip(found, asked, strict=True):
            part.sort(key=lambda p: -p[1].score)
            del part[limit:]
        return self._local_vectors(found, [vectors_of(make) for make, _, _ in asked])

    def _empty(self, name: str, layer: Reader) -> bool:
        """Whether the layer holds no live point (the same kept count as ``count(None)``'s)."""
        return (
            self._counts.get(name, repr(None), partial(layer.count, self._filter(name, None))) == 0
        )

    def _local_vectors(
        self, found: list[list[tuple[str | None, Found]]], names: list[bool | tuple[str, ...]]
    ) -> list[list[Found]]:
        """``found`` with the vectors each request asks, for the points of layers opened here:
        the points' vectors kept from earlier reads (``edge_memo``), and one retrieval per
        layer for the rest of the batch's survivors, without their payloads (the search
        brought those). Out of the engine a 1,280-d vector costs ~25 us as Python floats, with
        the GIL held: a tail's 64 candidates per search, most of them beaten by the base's,
        held it longest during ingestion. A payload with what the enrichers saw costs ~35 us
        more (65 points: 10.0 -> 7.2 ms with vectors, ad hoc, 1 Dec)."""
        ids: dict[str, set[str]] = {}
        for part, wanted in zip(found, names, strict=True):
            for layer, record in part:
                if wanted and layer is not None:
                    ids.setdefault(layer, set()).add(record.id)
        stored: dict[tuple[str, str], dict[str, object]] = {}
        for layer, wanted_ids in ids.items():
            kept = self._memo.get(layer, wanted_ids)
            missing = sorted(wanted_ids - kept.keys())
            if missing:  # every vector of each, so that the memo can answer any request
                token = self._memo.token(layer)
                reader = ShardReader(self.shards[layer])
                records = reader.retrieve(missing, True, with_payload=False).records()
                read = {record.id: record.vector for record in records}
                self._memo.put(layer, token, read)
                kept = {**kept, **read}
            for point, vector in kept.items():
                stored[layer, point] = vector
        out: list[list[Found]] = []
        for part, wanted in zip(found, names, strict=True):
            out.append([])
            for layer, record in part:
                if wanted and layer is not None:
                    vector = stored.get((layer, record.id), {})
                    keep = set(wanted) if isinstance(wanted, tuple) else set(vector)
                    vector = {k: v for k, v in vector.items() if k in keep}  # the memo's is shared
                    record = record._replace(vector=vector)
                out[-1].append(record)
        return out

    def retrieve(self, ids: list[str], *, with_vectors: bool | tuple[str, ...]) -> list[Found]:
        records: dict[str, Found] = {}
        for name, layer in self._layers():
            dead = self.tombstones.of(name)
            for record in layer.retrieve(ids, vector_request(with_vectors)).records():
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
