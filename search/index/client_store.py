"""``ClientIndex``: the ``VectorIndex`` over qdrant-client (a Qdrant server, or ``:memory:``).

The model stamp lives in the collection metadata (``metadata["loupe"]``), aliases are Qdrant
aliases, and collections are created with ``shard_number``/``replication_factor`` from the
settings. Local mode (``:memory:``) does exact numpy search, ignores sharding and payload
indexes (so none are requested there) and is serialised by a lock. The collection layout is in
``client_schema``, collections and aliases in ``client_catalog``, the mapping of the client's
errors in ``client_errors``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from qdrant_client import QdrantClient
from qdrant_client.http import models as qm

from loupe.search.index.base import (
    CONCEPTS,
    SEMANTIC,
    CollectionInfo,
    CollectionNotFound,
    Filter,
    Hit,
    IndexState,
    Point,
    Search,
    SparseVector,
)
from loupe.search.index.batching import skipping_empty
from loupe.search.index.client_catalog import (
    alias_map,
    describe,
    ensure_collection,
    point_alias,
    remove_alias,
)
from loupe.search.index.client_errors import mapped_errors
from loupe.search.index.client_queries import hits_of, query_request
from loupe.search.index.client_schema import client_vectors, index_state
from loupe.search.index.qdrant_filters import (
    point_id,
    point_ids,
    to_client_filter,
    to_hit,
    vector_request,
)
from loupe.search.index.stamp import Stamp, check_stamp

MEMORY = ":memory:"


class ClientIndex:
    """A ``VectorIndex`` on a Qdrant server (``url``) or in memory (``url=':memory:'``)."""

    def __init__(
        self, url: str, *, api_key: str | None = None, shards: int = 1, replicas: int = 1
    ) -> None:
        self._local = url == MEMORY
        self._shards = shards
        self._replicas = replicas
        self._lock: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if self._local else contextlib.nullcontext()
        )
        if self._local:
            self._client = QdrantClient(location=MEMORY)
        else:
            self._client = QdrantClient(
                url=url, api_key=api_key, timeout=30, check_compatibility=False
            )

    @contextlib.contextmanager
    def _guard(self, name: str | None = None) -> Iterator[None]:
        """Serialise local mode; map transport failures and unknown collections to our errors."""
        with self._lock, mapped_errors(name):
            yield

    # -- collections -----------------------------------------------------------------------

    def create_collection(
        self, name: str, *, model_id: str, dim: int, visual_dim: int | None
    ) -> None:
        wanted = Stamp(model_id=model_id, dim=dim, visual_dim=visual_dim, created_at=time.time())
        with self._guard(name):
            ensure_collection(
                self._client,
                name,
                wanted,
                shards=self._shards,
                replicas=self._replicas,
                indexed=not self._local,
            )

    def open_collection(self, name: str, *, model_id: str, dim: int) -> CollectionInfo:
        info = self.collection_info(name)
        check_stamp(
            name,
            Stamp(info.model_id, info.dim, info.visual_dim, info.created_at),
            Stamp(model_id, dim, info.visual_dim, 0.0),
            visual=False,
        )
        return info

    def collection_info(self, name: str) -> CollectionInfo:
        with self._guard(name):
            return describe(self._client, name)

    def list_collections(self) -> list[CollectionInfo]:
        with self._guard():
            names = sorted(c.name for c in self._client.get_collections().collections)
        infos = []
        for name in names:
            with contextlib.suppress(CollectionNotFound):  # foreign or just dropped
                infos.append(self.collection_info(name))
        return infos

    def drop_collection(self, name: str) -> None:
        with self._guard(name):
            if not self._client.delete_collection(name):
                raise CollectionNotFound(f"no collection named {name!r}")

    def set_alias(self, alias: str, collection: str) -> None:
        with self._guard(collection):
            point_alias(self._client, alias, collection)

    def resolve_alias(self, alias: str) -> str | None:
        with self._guard():
            return alias_map(self._client).get(alias)

    def delete_alias(self, alias: str) -> None:
        with self._guard():
            remove_alias(self._client, alias)

    # -- points ----------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        if not points:
            return
        structs = [
            qm.PointStruct(id=point_id(p.id), vector=client_vectors(p), payload=p.payload)
            for p in points
        ]
        with self._guard(collection):
            self._client.upsert(collection, points=structs, wait=True)

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        wanted: list[qm.ExtendedPointId] = list(point_ids(ids))
        if not wanted:
            return
        selector = qm.PointIdsList(points=wanted)
        with self._guard(collection):
            self._client.delete(collection, points_selector=selector, wait=True)

    def retrieve(
        self, collection: str, ids: Sequence[str], *, with_vectors: bool | tuple[str, ...] = False
    ) -> list[Hit]:
        wanted = point_ids(ids)
        if not wanted:
            return []
        with self._guard(collection):
            records = self._client.retrieve(
                collection, wanted, with_payload=True, with_vectors=vector_request(with_vectors)
            )
        found = {
            str(r.id): to_hit(r.id, 1.0, r.payload, r.vector, bool(with_vectors)) for r in records
        }
        return [found[i] for i in wanted if i in found]

    def count(self, collection: str, flt: Filter | None = None) -> int:
        with self._guard(collection):
            return self._client.count(
                collection, count_filter=to_client_filter(flt), exact=True
            ).count

    def scroll(
        self,
        collection: str,
        *,
        flt: Filter | None = None,
        limit: int = 256,
        offset: str | None = None,
        with_vectors: bool = False,
    ) -> tuple[list[Hit], str | None]:
        with self._guard(collection):
            records, next_offset = self._client.scroll(
                collection,
                scroll_filter=to_client_filter(flt),
                limit=limit,
                offset=point_id(offset) if offset is not None else None,
                with_payload=True,
                with_vectors=with_vectors,
            )
        hits = [to_hit(r.id, 1.0, r.payload, r.vector, with_vectors) for r in records]
        return hits, str(next_offset) if next_offset is not None else None

    def scroll_ordered(
        self,
        collection: str,
        *,
        key: str,
        descending: bool,
        flt: Filter | None = None,
        limit: int = 256,
        with_payload: bool = True,
    ) -> list[Hit]:
        direction = qm.Direction.DESC if descending else qm.Direction.ASC
        with self._guard(collection):
            records, _ = self._client.scroll(
                collection,
                scroll_filter=to_client_filter(flt),
                limit=limit,
                order_by=qm.OrderBy(key=key, direction=direction),
                with_payload=with_payload,
                with_vectors=False,
            )
        return [to_hit(r.id, float(r.order_value or 0), r.payload, None, False) for r in records]

    def search(
        self,
        collection: str,
        vector: NDArray[np.float32],
        *,
        using: str = SEMANTIC,
        flt: Filter | None = None,
        limit: int = 10,
        offset: int = 0,
        score_threshold: float | None = None,
        with_vectors: bool | tuple[str, ...] = False,
        exact: bool = False,
    ) -> list[Hit]:
        search = Search(vector, using, flt, limit, offset, score_threshold, with_vectors, exact)
        return self.search_batch(collection, [search])[0]

    def search_sparse(
        self,
        collection: str,
        vector: SparseVector,
        *,
        using: str = CONCEPTS,
        flt: Filter | None = None,
        limit: int = 10,
        with_vectors: bool | tuple[str, ...] = False,
    ) -> list[Hit]:
        search = Search(vector, using, flt, limit, with_vectors=with_vectors)
        return self.search_batch(collection, [search])[0]

    def search_batch(self, collection: str, searches: Sequence[Search]) -> list[list[Hit]]:
        """One ``query_batch_points`` call for every search that can match anything."""

        def ask(asked: list[Search]) -> list[list[Hit]]:
            requests = [query_request(s, local=self._local) for s in asked]
            with self._guard(collection):
                responses = self._client.query_batch_points(collection, requests)
            return [hits_of(s, r.points) for s, r in zip(asked, responses, strict=True)]

        return skipping_empty(searches, ask)

    def optimize(self, collection: str) -> None:
        """No-op: the Qdrant server builds its HNSW indexes itself; local mode has none."""

    def index_state(self, collection: str) -> IndexState:
        """From the server's collection info: vectors indexed (per named vector) and a yellow
        status (its optimizer running). Local mode reports every point pending (it has no
        index: every search is exact)."""
        with self._guard(collection):
            target = alias_map(self._client).get(collection, collection)
            info = self._client.get_collection(target)
        return index_state(info)

    def close(self) -> None:
        with self._lock:
            self._client.close()
