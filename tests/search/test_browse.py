"""Browse by date on every adapter: the index orders (payload index + order_by), pages are exact
with ties by id, and points without a date fall back to the capped in-memory sort."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from loupe.search.browse import BrowsePage, Dated, browse
from loupe.search.index.base import SEMANTIC, Filter, Point, VectorIndex
from loupe.search.index.client_store import ClientIndex
from loupe.search.index.edge_store import EdgeIndex
from loupe.search.index.memory_store import NumpyIndex

VECTOR = np.array([1.0, 0.0], dtype=np.float32)


@pytest.fixture(params=["numpy", "client", "edge"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorIndex]:
    store: VectorIndex
    if request.param == "numpy":
        store = NumpyIndex()
    elif request.param == "client":
        store = ClientIndex(":memory:")
    else:
        store = EdgeIndex(tmp_path)
    store.create_collection("c", model_id="m", dim=2, visual_dim=None)
    yield store
    store.close()


def point(name: str, taken: float | None, *, tag: str = "all") -> Point:
    payload: dict[str, object] = {"name": name, "created_at": 25.0, "tags": [tag]}
    if taken is not None:
        payload["taken_at"] = taken
    return Point(str(uuid.uuid5(uuid.NAMESPACE_URL, name)), {SEMANTIC: VECTOR}, payload)


def names(page: BrowsePage) -> list[str]:
    return [str(h.payload["name"]) for h in page.hits]


def taken(p: Point) -> float:
    value = p.payload["taken_at"]
    assert isinstance(value, float)
    return value


def expected(points: list[Point], *, descending: bool = True) -> list[str]:
    ordered = sorted(points, key=lambda p: p.id)
    ordered.sort(key=taken, reverse=descending)
    return [str(p.payload["name"]) for p in ordered]


def test_the_index_orders_by_date_and_pages_are_exact_with_ties_by_id(
    index: VectorIndex,
) -> None:
    # 30 points on 7 dates: ties straddle every page edge
    points = [point(f"p{i}", float(i % 7), tag="odd" if i % 2 else "even") for i in range(30)]
    index.upsert("c", points)
    for descending in (True, False):
        pages, offset = [], 0
        while True:
            page = browse(index, "c", flt=None, limit=4, offset=offset, descending=descending)
            assert page.total == 30 and not page.capped
            pages += names(page)
            if page.next_offset is None:
                break
            offset = page.next_offset
        assert pages == expected(points, descending=descending)
    even = browse(index, "c", flt=Filter(tags_any=["even"]), limit=100)
    assert names(even) == expected([p for p in points if p.payload["tags"] == ["even"]])
    assert even.total == 15 and even.next_offset is None


def test_ordering_merges_the_layers_of_an_optimized_store(index: VectorIndex) -> None:
    first = [point(f"a{i}", float(i)) for i in range(0, 20, 2)]
    index.upsert("c", first)
    index.optimize("c")  # edge: the first points move to a base, the rest land in the tail
    later = [point(f"b{i}", float(i)) for i in range(1, 20, 2)]
    index.upsert("c", later)
    page = browse(index, "c", flt=None, limit=5, offset=5)
    assert names(page) == expected(first + later)[5:10]
    assert page.total == 20


def test_points_without_a_date_fall_back_to_the_capped_scan(index: VectorIndex) -> None:
    dates = {"a": 30.0, "b": 10.0, "c": None, "d": 40.0, "e": 20.0}  # c: no taken_at
    index.upsert("c", [point(name, date) for name, date in dates.items()])
    first = browse(index, "c", flt=None, limit=3)
    assert names(first) == ["d", "a", "c"]  # c by its created_at, 25
    assert (first.total, first.capped, first.next_offset) == (5, False, 3)
    assert names(browse(index, "c", flt=None, limit=3, offset=3)) == ["e", "b"]
    capped = browse(index, "c", flt=None, max_scan=2)
    assert capped.capped and capped.total == 2


def test_an_unknown_sort_key_is_refused(index: VectorIndex) -> None:
    with pytest.raises(ValueError, match="sort must be one of"):
        browse(index, "c", flt=None, sort="width")


def test_the_dated_check_is_remembered_until_the_collection_changes(
    index: VectorIndex,
) -> None:
    index.upsert("c", [point(f"p{i}", float(i)) for i in range(5)])
    dated = Dated()
    assert names(browse(index, "c", flt=None, limit=2, dated=dated)) == ["p4", "p3"]
    assert dated.everywhere(index, "c", "taken_at")
    index.upsert("c", [point("late", None)])  # no taken_at: created_at 25 sorts it first
    assert names(browse(index, "c", flt=None, limit=2, dated=dated)) == ["late", "p4"]
    assert not dated.everywhere(index, "c", "taken_at")
