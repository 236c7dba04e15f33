"""The vector index: one interface (``VectorIndex``) over qdrant-client and qdrant-edge."""

from __future__ import annotations

from loupe.search.index.base import (
    SEMANTIC,
    VISUAL,
    CollectionInfo,
    CollectionNotFound,
    Filter,
    Hit,
    IndexState,
    IndexUnavailable,
    ModelMismatch,
    Point,
    Range,
    VectorIndex,
)
from loupe.search.index.base import TENANT_FIELD as TENANT_FIELD

__all__ = [
    "SEMANTIC",
    "VISUAL",
    "CollectionInfo",
    "CollectionNotFound",
    "Filter",
    "Hit",
    "IndexState",
    "IndexUnavailable",
    "ModelMismatch",
    "Point",
    "Range",
    "VectorIndex",
    "open_index",
]


def open_index(
    *,
    url: str | None,
    path: str | None,
    api_key: str | None = None,
    shards: int = 1,
    replicas: int = 1,
    build_after: int = 10_000,
    build_nice: int = 10,
    pin_mb: int = 0,
) -> VectorIndex:
    """A server (``url``), ``:memory:`` (``url=':memory:'``), or the embedded store at ``path``."""
    if url:
        from loupe.search.index.client_store import ClientIndex

        return ClientIndex(url=url, api_key=api_key, shards=shards, replicas=replicas)
    if path is None:
        raise ValueError("open_index needs a url or a path")
    from loupe.search.index.edge_store import EdgeIndex

    return EdgeIndex(path, build_after=build_after, build_nice=build_nice, pin_mb=pin_mb)
