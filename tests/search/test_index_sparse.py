"""The ``concepts`` sparse vector: one test body for qdrant-client, qdrant-edge and numpy."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from loupe.search.index import SEMANTIC, VISUAL, Filter, Point, VectorIndex
from loupe.search.index.base import CONCEPTS, SparseVector
from loupe.search.index.client_store import ClientIndex
from loupe.search.index.edge_store import EdgeIndex
from loupe.search.index.memory_store import NumpyIndex

DIM = 8
STORES = ["client", "edge", "numpy"]


def open_store(kind: str, folder: Path) -> VectorIndex:
    if kind == "client":
        return ClientIndex(":memory:")
    if kind == "edge":
        return EdgeIndex(folder, auto_optimize=False)
    return NumpyIndex()


@pytest.fixture(params=STORES)
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorIndex]:
    store = open_store(request.param, tmp_path)
    yield store
    store.close()


def pid(i: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"loupe-sparse-{i}"))


def make_points(n: int = 30, seed: int = 1) -> list[Point]:
    """Every third point has no concepts (a text point, or a collection's older points)."""
    rng = np.random.default_rng(seed)
    points = []
    for i in range(n):
        dense = rng.standard_normal(DIM).astype(np.float32)
        vectors = {SEMANTIC: dense / np.linalg.norm(dense), VISUAL: dense / np.linalg.norm(dense)}
        concepts: dict[str, SparseVector] = {}
        if i % 3:
            ids = rng.choice(50, size=4, replace=False)
            probs = rng.dirichlet(np.ones(4))
            concepts[CONCEPTS] = SparseVector.of(
                dict(zip(ids.tolist(), probs.tolist(), strict=True))
            )
        payload = {"modality": "image", "tags": ["odd" if i % 2 else "even"], "i": i}
        points.append(Point(pid(i), vectors, payload, concepts))
    return points


def fill(index: VectorIndex) -> list[Point]:
    index.create_collection("c", model_id="m", dim=DIM, visual_dim=DIM)
    points = make_points()
    index.upsert("c", points)
    return points


def expected(
    points: list[Point], query: dict[int, float], keep: set[int] | None = None
) -> list[str]:
    scored = []
    for i, point in enumerate(points):
        stored = point.sparse.get(CONCEPTS)
        if stored is None or (keep is not None and i not in keep):
            continue
        score = sum(v * query.get(k, 0.0) for k, v in stored.as_dict().items())
        if score > 0:
            scored.append((round(-score, 5), point.id))
    return [point_id for _, point_id in sorted(scored)]


def test_sparse_search_ranks_by_exact_dot_product(index: VectorIndex) -> None:
    points = fill(index)
    query = {k: 1.0 for k in range(0, 50, 2)} | {7: 0.5}
    hits = index.search_sparse("c", SparseVector.of(query), limit=100)
    want = expected(points, query)
    assert [h.id for h in hits] == want
    assert 0 < len(want) < len(points)
    by_id = {p.id: p for p in points}
    for hit in hits:
        stored = by_id[hit.id].sparse[CONCEPTS].as_dict()
        assert hit.score == pytest.approx(sum(v * query.get(k, 0) for k, v in stored.items()))


def test_sparse_search_limit_filter_and_empty_query(index: VectorIndex) -> None:
    points = fill(index)
    query = {k: 1.0 + k / 100 for k in range(50)}
    odd = {i for i in range(len(points)) if i % 2}
    hits = index.search_sparse("c", SparseVector.of(query), flt=Filter(tags_any=["odd"]), limit=5)
    assert [h.id for h in hits] == expected(points, query, odd)[:5]
    assert index.search_sparse("c", SparseVector.of({}), limit=5) == []
    assert index.search_sparse("c", SparseVector.of({999: 1.0}), limit=5) == []


def test_sparse_vectors_come_back_when_asked(index: VectorIndex) -> None:
    points = fill(index)
    query = SparseVector.of({k: 1.0 for k in range(50)})
    [hit] = index.search_sparse("c", query, limit=1, with_vectors=(SEMANTIC, CONCEPTS))
    source = next(p for p in points if p.id == hit.id)
    assert hit.sparse is not None and hit.vectors is not None
    assert hit.sparse[CONCEPTS].as_dict() == pytest.approx(source.sparse[CONCEPTS].as_dict())
    assert set(hit.vectors) == {SEMANTIC}
    [dense_only] = index.search("c", source.vectors[SEMANTIC], limit=1, with_vectors=(SEMANTIC,))
    assert not dense_only.sparse
    [everything] = index.retrieve("c", [source.id], with_vectors=True)
    assert everything.sparse is not None and CONCEPTS in everything.sparse
    assert set(everything.vectors or {}) == {SEMANTIC, VISUAL}


def test_reupsert_replaces_concepts(index: VectorIndex) -> None:
    points = fill(index)
    first = points[1]
    index.upsert(
        "c", [Point(first.id, first.vectors, first.payload, {CONCEPTS: SparseVector.of({49: 0.9})})]
    )
    hits = index.search_sparse("c", SparseVector.of({49: 1.0}), limit=50)
    assert hits[0].id == first.id and hits[0].score == pytest.approx(0.9)
    old = max(first.sparse[CONCEPTS].as_dict().items(), key=lambda kv: kv[1])[0]
    if old != 49:
        found = index.search_sparse("c", SparseVector.of({old: 1.0}), limit=50)
        assert first.id not in [h.id for h in found]


def test_every_adapter_answers_the_same(tmp_path: Path) -> None:
    answers = []
    for kind in STORES:
        store = open_store(kind, tmp_path / kind)
        try:
            fill(store)
            hits = store.search_sparse("c", SparseVector.of({3: 1.0, 10: 0.5, 20: 0.25}), limit=8)
            answers.append([(h.id, round(h.score, 5)) for h in hits])
        finally:
            store.close()
    assert answers[0] == answers[1] == answers[2] != []
