"""``search.index.edge_reads``: an embedded collection with a built base (in its host process)
and a tail answers every read as one collection would: searches merged best first, counts
summed, scrolls in id order and by a payload number across both layers, and the base's
tombstoned points (deleted or overwritten in the tail) left out of each."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from loupe.search.index import SEMANTIC, Filter, Point
from loupe.search.index.edge_layers import read_layers
from loupe.search.index.edge_store import EdgeIndex
from tests.search.test_index import DIM, VISUAL_DIM, make_points, pid

POINTS = make_points(40, seed=11)
BASE, TAIL = POINTS[:30], POINTS[30:]
GONE = {pid(0), pid(1), pid(2)}  # deleted from the base
EDITED = pid(3)  # overwritten: its new version lives in the tail


def _live() -> dict[str, Point]:
    live = {p.id: p for p in POINTS if p.id not in GONE}
    old = live[EDITED]
    live[EDITED] = Point(EDITED, old.vectors, {**old.payload, "tags": ["edited"]})
    return live


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeIndex]:
    root = tmp_path_factory.mktemp("edge-reads")
    index = EdgeIndex(root, auto_optimize=False)
    index.create_collection("c", model_id="m", dim=DIM, visual_dim=VISUAL_DIM)
    index.upsert("c", BASE)
    index.optimize("c")  # BASE is now a built base; what follows goes to the tail
    index.upsert("c", TAIL)
    index.delete("c", sorted(GONE))
    index.upsert("c", [_live()[EDITED]])
    layers = read_layers(next((root / "collections").iterdir()))
    assert layers is not None and len(layers.bases) == 1  # two layers are read
    yield index
    index.close()


def test_search_merges_the_layers_best_first(index: EdgeIndex) -> None:
    live = list(_live().values())
    vectors = np.stack([p.vectors[SEMANTIC] for p in live])
    for query in (POINTS[0].vectors[SEMANTIC], POINTS[35].vectors[SEMANTIC]):
        hits = index.search("c", query, limit=8, exact=True)
        expected = [live[int(i)].id for i in np.argsort(-(vectors @ query))[:8]]
        assert [h.id for h in hits] == expected
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_retrieve_leaves_tombstoned_base_points_out(index: EdgeIndex) -> None:
    hits = index.retrieve("c", [pid(i) for i in range(6)])
    assert [h.id for h in hits] == [pid(i) for i in range(3, 6)]
    assert hits[0].payload["tags"] == ["edited"]  # the tail's version, not the base's


def test_count_sums_the_layers_with_a_filter(index: EdgeIndex) -> None:
    live = _live().values()
    assert index.count("c") == len(_live()) == 37
    flt = Filter(tags_any=["t0"])
    assert index.count("c", flt) == sum("t0" in p.payload["tags"] for p in live)
    assert index.count("c", Filter(tags_any=["edited"])) == 1


def test_scroll_pages_through_both_layers_in_id_order(index: EdgeIndex) -> None:
    seen: list[str] = []
    offset: str | None = None
    pages = 0
    while True:
        page, offset = index.scroll("c", limit=7, offset=offset)
        seen += [h.id for h in page]
        pages += 1
        if offset is None:
            break
    assert seen == sorted(_live()) and pages == 6


def test_scroll_ordered_merges_by_the_payload_number(index: EdgeIndex) -> None:
    by_date = sorted(_live().values(), key=lambda p: p.payload["created_at"])
    newest = index.scroll_ordered("c", key="created_at", descending=True, limit=12)
    assert [h.id for h in newest] == [p.id for p in reversed(by_date)][:12]
    oldest = index.scroll_ordered("c", key="created_at", descending=False, limit=5)
    assert [h.id for h in oldest] == [p.id for p in by_date][:5]
