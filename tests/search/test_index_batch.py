"""``search_batch``: one call, many searches (dense and sparse, each with its own filter, limit,
offset and threshold), each answered as exact search would, in order; one test body for
qdrant-client, qdrant-edge and numpy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from loupe.search.index import SEMANTIC, VISUAL, Filter, Point, VectorIndex
from loupe.search.index.base import CONCEPTS, Search, SparseVector
from tests.search.test_index_sparse import STORES, expected, fill, open_store


@pytest.fixture(params=STORES)
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorIndex]:
    store = open_store(request.param, tmp_path)
    yield store
    store.close()


def nearest(points: list[Point], query: np.ndarray, using: str, keep: set[int]) -> list[str]:
    scores = [(-float(p.vectors[using] @ query), p.id) for i, p in enumerate(points) if i in keep]
    return [point_id for _, point_id in sorted(scores)]


def test_each_search_of_a_batch_is_answered_in_order(index: VectorIndex) -> None:
    points = fill(index)
    everyone, odd = set(range(len(points))), {i for i in range(len(points)) if i % 2}
    query = points[4].vectors[SEMANTIC]
    concepts = {3: 1.0, 17: 0.5, 42: 0.25}
    searches = [
        Search(query, limit=5, exact=True),
        Search(SparseVector.of(concepts), using=CONCEPTS, limit=4),
        Search(query, using=VISUAL, flt=Filter(tags_any=["odd"]), limit=3, offset=2, exact=True),
        Search(SparseVector.of({}), using=CONCEPTS),  # matches nothing
        Search(SparseVector.of(concepts), using=CONCEPTS, flt=Filter(tags_any=["odd"]), limit=30),
        Search(query, score_threshold=0.5, limit=30, with_vectors=(SEMANTIC,), exact=True),
    ]
    answers = index.search_batch("c", searches)

    assert len(answers) == len(searches)
    assert [h.id for h in answers[0]] == nearest(points, query, SEMANTIC, everyone)[:5]
    assert [h.id for h in answers[1]] == expected(points, concepts)[:4]
    assert [h.id for h in answers[2]] == nearest(points, query, VISUAL, odd)[2:5]
    assert answers[3] == []
    assert [h.id for h in answers[4]] == expected(points, concepts, keep=odd)
    above = [p.id for p in points if float(p.vectors[SEMANTIC] @ query) >= 0.5]
    assert {h.id for h in answers[5]} == set(above)
    assert all(h.vectors is not None and SEMANTIC in h.vectors for h in answers[5])
    assert all(not h.vectors for h in answers[0])


def test_an_empty_batch_and_a_batch_of_nothing(index: VectorIndex) -> None:
    fill(index)
    assert index.search_batch("c", []) == []
    assert index.search_batch("c", [Search(SparseVector.of({}), using=CONCEPTS)]) == [[]]
