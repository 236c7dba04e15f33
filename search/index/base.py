"""The vector index contract: Qdrant collections with named vectors, payloads and aliases.

Two adapters implement it: ``ClientIndex`` (qdrant-client: a server URL, or ``:memory:``) and
``EdgeIndex`` (qdrant-edge-py: Qdrant's embedded engine on disk, one shard per collection
folder). The same test body runs against both.

Vector names: ``semantic`` (the shared text/image space) and ``visual`` (image→image, present
only when the encoder has one; text points carry no ``visual`` vector). Distance is cosine on
unit vectors, i.e. the dot product. Point ids are strings holding UUIDs.

Every collection also has the sparse vector ``concepts``: an image's classifier concepts (ids
from ``search.concepts.vocab``) with their probabilities, scored by dot product against a
query's concept weights (``search_sparse``). Points without concepts simply never match it.

Every collection is stamped with the ``model_id`` and ``dim`` of the encoder that fills it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

SEMANTIC = "semantic"
VISUAL = "visual"
CONCEPTS = "concepts"


class IndexStoreError(RuntimeError):
    """Base of index errors."""


class IndexUnavailable(IndexStoreError):
    """The index cannot be reached right now (transient: retry later)."""


class CollectionNotFound(IndexStoreError):
    """No collection or alias of that name."""


class ModelMismatch(IndexStoreError):
    """A collection stamped with one model was opened with another encoder."""


@dataclass(frozen=True, slots=True)
class SparseVector:
    """Non-zero ``values`` at ``indices`` (ascending, distinct)."""

    indices: tuple[int, ...]
    values: tuple[float, ...]

    @classmethod
    def of(cls, weights: Mapping[int, float]) -> SparseVector:
        """The non-zero entries of ``weights``, in index order."""
        items = sorted((int(k), float(v)) for k, v in weights.items() if v != 0)
        return cls(tuple(k for k, _ in items), tuple(v for _, v in items))

    def as_dict(self) -> dict[int, float]:
        return dict(zip(self.indices, self.values, strict=True))

    def __bool__(self) -> bool:
        return bool(self.indices)


@dataclass(frozen=True, slots=True)
class Point:
    id: str
    vectors: dict[str, NDArray[np.float32]]
    payload: dict[str, Any]
    sparse: Mapping[str, SparseVector] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float
    payload: dict[str, Any]
    vectors: dict[str, NDArray[np.float32]] | None = None
    sparse: dict[str, SparseVector] | None = None


@dataclass(frozen=True, slots=True)
class Range:
    """Inclusive numeric range; either end may be open. Dates are compared as epoch seconds."""

    gte: float | None = None
    lte: float | None = None


@dataclass(frozen=True, slots=True)
class Filter:
    """Conditions ANDed together. ``equals`` and ``ranges`` take payload keys
    (``metadata.camera``, ``width``); ``tags_any`` matches points having any of the tags;
    ``ids_not`` excludes point ids; ``all_of`` needs every listed value in the key's list
    (``enrich.objects``: has a dog and a person)."""

    equals: dict[str, str | int | bool] = field(default_factory=dict)
    any_of: dict[str, list[str | int]] = field(default_factory=dict)
    all_of: dict[str, list[str | int]] = field(default_factory=dict)
    ranges: dict[str, Range] = field(default_factory=dict)
    tags_any: list[str] = field(default_factory=list)
    ids_not: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (
            self.equals
            or self.any_of
            or any(self.all_of.values())
            or self.ranges
            or self.tags_any
            or self.ids_not
        )


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    name: str
    model_id: str
    dim: int
    visual_dim: int | None
    points: int
    created_at: float
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class IndexState:
    """How far a collection's ANN index is: ``indexed`` points are in built (HNSW) structures,
    ``pending`` ones are searched exactly until the next build; a build in progress with its
    phase and progress (0..1, None when unknown), the last build's duration in seconds, and
    the bytes of the built structures locked in RAM (None where the store does not say)."""

    indexed: int
    pending: int
    building: bool = False
    build_phase: str | None = None
    build_progress: float | None = None
    last_build_s: float | None = None
    pinned_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class Search:
    """One search of a ``search_batch``: by a dense ``vector`` as ``VectorIndex.search`` does,
    or by a ``SparseVector`` as ``search_sparse`` does (``offset``, ``score_threshold`` and
    ``exact`` apply to dense searches only)."""

    vector: NDArray[np.float32] | SparseVector
    using: str = SEMANTIC
    flt: Filter | None = None
    limit: int = 10
    offset: int = 0
    score_threshold: float | None = None
    with_vectors: bool | tuple[str, ...] = False
    exact: bool = False

    @property
    def matches_nothing(self) -> bool:
        """An empty sparse query: no point can match it, so no store is asked."""
        return isinstance(self.vector, SparseVector) and not self.vector


# Payload keys that get a payload index (keyword or numeric) on creation.
KEYWORD_FIELDS = (
    "modality",
    "mime",
    "tags",
    "sha256",
    "model_id",
    "enrich.text_grams",
    "enrich.objects",
    "enrich.colours",
)
NUMERIC_FIELDS = (
    "created_at",
    "taken_at",
    "width",
    "height",
    "enrich.people",
    "enrich.text_count",
)
# Filtering on a field without an index reads every point's payload: a text query whose
# evidence asks for night or writing (``search.evidence``) took ~240 ms CPU at 100k points.
BOOL_FIELDS = ("enrich.night", "enrich.bw")
# The library a point belongs to (absent: the library without tenants). One collection holds
# every tenant, partitioned by this keyword (``is_tenant`` where the engine supports it), as
# Qdrant's multitenancy guide advises, rather than one collection per tenant.
TENANT_FIELD = "tenant"


class VectorIndex(Protocol):
    """One small interface over Qdrant. All methods are thread-safe."""

    def create_collection(
        self, name: str, *, model_id: str, dim: int, visual_dim: int | None
    ) -> None:
        """Create an empty collection stamped with the model; no-op if it exists identically,
        ModelMismatch if it exists with another model or dim."""

    def open_collection(self, name: str, *, model_id: str, dim: int) -> CollectionInfo:
        """Info of a collection (or alias), refusing a different model: ModelMismatch."""

    def collection_info(self, name: str) -> CollectionInfo:
        """Info of a collection or alias target; CollectionNotFound if none."""

    def list_collections(self) -> list[CollectionInfo]: ...

    def drop_collection(self, name: str) -> None: ...

    def set_alias(self, alias: str, collection: str) -> None:
        """Point ``alias`` at ``collection`` atomically (creating or moving it)."""

    def resolve_alias(self, alias: str) -> str | None: ...

    def delete_alias(self, alias: str) -> None:
        """Remove ``alias`` (absent aliases are ignored); the collection stays."""

    def upsert(self, collection: str, points: Sequence[Point]) -> None: ...

    def delete(self, collection: str, ids: Sequence[str]) -> None: ...

    def retrieve(
        self, collection: str, ids: Sequence[str], *, with_vectors: bool | tuple[str, ...] = False
    ) -> list[Hit]:
        """The points that exist among ``ids``, in the order asked; ``with_vectors``: all their
        vectors, none, or those named."""

    def count(self, collection: str, flt: Filter | None = None) -> int: ...

    def scroll(
        self,
        collection: str,
        *,
        flt: Filter | None = None,
        limit: int = 256,
        offset: str | None = None,
        with_vectors: bool = False,
    ) -> tuple[list[Hit], str | None]:
        """A page of points in id order, and the offset of the next page (None at the end)."""

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
        """The first ``limit`` points ``flt`` keeps by the number at payload ``key`` (one of
        ``NUMERIC_FIELDS``), highest first when ``descending``; each hit's ``score`` is that
        number; ties in any order; points with no number there are left out; payloads empty
        unless ``with_payload``. Served by the store's payload index on ``key``."""

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
        """Nearest neighbours by dot product, best first. ``with_vectors``: all of each hit's
        named vectors (True), none (False), or only those named (dense in ``Hit.vectors``,
        sparse in ``Hit.sparse``)."""

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
        """Points with a positive dot product against the sparse ``vector``, best first (exact;
        ties by id); points without the sparse vector never match."""

    def search_batch(self, collection: str, searches: Sequence[Search]) -> list[list[Hit]]:
        """Each search's answer, in order, the same as ``search`` or ``search_sparse`` gives;
        in one round trip to each part of the store where it can (the point of the call)."""

    def optimize(self, collection: str) -> None:
        """Build/refresh the ANN structures (HNSW) now and wait for them; a no-op where the store
        does it itself. Never blocks other callers of the index."""

    def index_state(self, collection: str) -> IndexState:
        """Points indexed vs pending and the build in progress (see ``IndexState``)."""

    def close(self) -> None: ...
