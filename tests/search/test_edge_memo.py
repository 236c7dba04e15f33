"""``search.index.edge_memo``: the vectors of tail points kept once read, forgotten when a point
is written, never stored from a read that raced a write; and through ``EdgeIndex``, a search
of a tail returns the vectors a point has now, not those it had."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loupe.search.index import SEMANTIC, Point
from loupe.search.index.base import VISUAL
from loupe.search.index.edge_memo import VectorMemo
from loupe.search.index.edge_reader import ShardReader
from loupe.search.index.edge_store import EdgeIndex
from tests.search.test_index import DIM, VISUAL_DIM, make_points, unit


def _vectors(value: float) -> dict[str, np.ndarray]:
    return {SEMANTIC: np.full(4, value, np.float32)}


def test_kept_until_written_and_least_recently_used_out() -> None:
    memo = VectorMemo(capacity=2)
    memo.put("tail-1", memo.token("tail-1"), {"a": _vectors(1), "b": _vectors(2)})
    assert set(memo.get("tail-1", ["a", "b", "c"])) == {"a", "b"}
    assert memo.get("tail-2", ["a"]) == {}  # per layer
    memo.get("tail-1", ["a"])  # a is now the most recently used
    memo.put("tail-1", memo.token("tail-1"), {"c": _vectors(3)})
    assert set(memo.get("tail-1", ["a", "b", "c"])) == {"a", "c"}
    memo.forget("tail-1", ["a"])
    assert set(memo.get("tail-1", ["a", "c"])) == {"c"}


def test_a_read_that_raced_a_write_is_not_kept() -> None:
    memo = VectorMemo()
    token = memo.token("tail-1")  # a search starts reading
    memo.forget("tail-1", ["a"])  # a write lands meanwhile
    memo.put("tail-1", token, {"a": _vectors(1)})  # what the search read may be the old one
    assert memo.get("tail-1", ["a"]) == {}
    memo.put("tail-1", memo.token("tail-1"), {"a": _vectors(2)})
    assert memo.get("tail-1", ["a"])["a"][SEMANTIC][0] == 2


def test_kept_vectors_are_their_own_and_read_only() -> None:
    memo = VectorMemo()
    matrix = np.ones((2, 4), np.float32)
    memo.put("tail-1", memo.token("tail-1"), {"a": {SEMANTIC: matrix[0]}})
    kept = memo.get("tail-1", ["a"])["a"][SEMANTIC]
    assert kept.base is None  # not a view that keeps the whole matrix alive
    with pytest.raises(ValueError, match="read-only"):
        kept[0] = 5.0  # shared by every search that reads it


def test_a_search_returns_the_vectors_a_tail_point_has_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = EdgeIndex(tmp_path, auto_optimize=False)
    try:
        index.create_collection("c", model_id="m", dim=DIM, visual_dim=VISUAL_DIM)
        points = make_points(6, seed=3)
        index.upsert("c", points)
        query = points[0].vectors[SEMANTIC]
        reads: list[int] = []
        retrieve = ShardReader.retrieve

        def counted(self: ShardReader, ids: list[str], *args: object, **kw: object) -> object:
            reads.append(len(ids))
            return retrieve(self, ids, *args, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(ShardReader, "retrieve", counted)
        first = index.search("c", query, limit=6, with_vectors=True, exact=True)
        again = index.search("c", query, limit=6, with_vectors=(VISUAL,), exact=True)
        assert reads == [6]  # the second search's vectors came from the memo
        assert {h.id for h in again if h.vectors} == {p.id for p in points[::2]}  # images
        assert all(set(h.vectors or {}) <= {VISUAL} for h in again)
        np.testing.assert_array_equal(first[0].vectors[SEMANTIC], query)  # type: ignore[index]
        moved = Point(points[0].id, {SEMANTIC: unit(np.random.default_rng(9), DIM)}, {})
        index.upsert("c", [moved])
        now = {h.id: h for h in index.search("c", query, limit=6, with_vectors=True, exact=True)}
        np.testing.assert_array_equal(
            now[moved.id].vectors[SEMANTIC],  # type: ignore[index]
            moved.vectors[SEMANTIC],
        )
        assert VISUAL not in now[moved.id].vectors  # type: ignore[operator]
        index.delete("c", [points[2].id])
        gone = index.search("c", query, limit=6, with_vectors=True, exact=True)
        assert points[2].id not in {h.id for h in gone}
    finally:
        index.close()
