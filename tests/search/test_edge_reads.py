"""``search.index.edge_reads``: an embedded collection with a built base (in its host process)
and a tail answers every read as one collection would: searches merged best first, counts
summed, scrolls in id order and by a payload number across both layers, and the base's
tombstoned points (deleted or overwritten in the tail) left out of each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from loupe.search.index import SEMANTIC, Filter, Point
from loupe.search.index.base import Search
from loupe.search.index.edge_host import BaseHost
from loupe.search.index.edge_layers import read_layers
from loupe.search.index.edge_reader import ShardReader
from loupe.search.index.edge_store import EdgeIndex
from loupe.search.index.python_filters import matches
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


def test_a_batch_asks_each_base_host_once_and_merges_like_single_searches(
    index: EdgeIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = BaseHost._call

    def counted(host: BaseHost, op: str, *args: object) -> object:
        calls.append(op)
        return real(host, op, *args)

    monkeypatch.setattr(BaseHost, "_call", counted)
    live = list(_live().values())
    vectors = np.stack([p.vectors[SEMANTIC] for p in live])
    queries = [POINTS[0].vectors[SEMANTIC], POINTS[35].vectors[SEMANTIC]]
    searches = [Search(q, limit=6, exact=True) for q in queries]
    searches.append(Search(queries[0], flt=Filter(tags_any=["t0"]), limit=4, exact=True))
    searches.append(Search(queries[1], limit=3, offset=2, exact=True))
    answers = index.search_batch("c", searches)

    assert calls == ["query_batch"]  # one round trip to the base's host for the whole batch
    for query, hits in zip(queries, answers, strict=False):
        assert [h.id for h in hits] == [live[int(i)].id for i in np.argsort(-(vectors @ query))[:6]]
    t0 = sorted(
        (p for p in live if "t0" in p.payload["tags"]),
        key=lambda p: -float(p.vectors[SEMANTIC] @ queries[0]),
    )
    assert [h.id for h in answers[2]] == [p.id for p in t0[:4]]  # 3 and 0: tombstoned, not t0
    ranked = [live[int(i)].id for i in np.argsort(-(vectors @ queries[1]))]
    assert [h.id for h in answers[3]] == ranked[2:5]


def test_vectors_cross_the_hosts_pipe_exactly_and_only_when_asked(index: EdgeIndex) -> None:
    live = _live()
    query = POINTS[0].vectors[SEMANTIC]
    [with_all, bare, semantic] = index.search_batch(
        "c",
        [
            Search(query, limit=40, with_vectors=True, exact=True),
            Search(query, limit=40, exact=True),
            Search(query, limit=40, with_vectors=(SEMANTIC,), exact=True),
        ],
    )
    assert len(with_all) == len(live) and {h.id for h in with_all} == set(live)
    for hit in with_all:  # from the base's host and from the tail alike
        stored = live[hit.id].vectors
        assert hit.vectors is not None and set(hit.vectors) == set(stored)  # texts: no visual
        for name, vector in stored.items():  # a base keeps ``visual`` as float16
            np.testing.assert_allclose(hit.vectors[name], vector, atol=1e-3)
            assert hit.vectors[name].dtype == np.float32
        assert hit.payload == live[hit.id].payload
    assert all(h.vectors is None for h in bare)
    assert all(h.vectors is not None and set(h.vectors) == {SEMANTIC} for h in semantic)
    retrieved = index.retrieve("c", [pid(4), pid(35)], with_vectors=True)
    for hit in retrieved:
        assert hit.vectors is not None
        np.testing.assert_allclose(hit.vectors[SEMANTIC], live[hit.id].vectors[SEMANTIC], atol=1e-6)


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


@pytest.mark.parametrize(
    "flt",
    [
        Filter(ids_not=[pid(4), pid(35), pid(0), pid(4)]),  # base, tail, deleted, twice
        Filter(tags_any=["t0"], ids_not=[pid(3), pid(6), pid(7), pid(33), "nope"]),
        Filter(tags_any=["edited"], ids_not=[pid(3)]),  # the edited point, now in the tail
        Filter(equals={"modality": "image"}, ids_not=[str(pid(i)) for i in range(0, 40, 3)]),
    ],
)
def test_a_count_leaving_out_a_few_ids_counts_what_the_filter_keeps(
    index: EdgeIndex, flt: Filter
) -> None:
    expected = sum(matches(p.id, p.payload, flt) for p in _live().values())
    assert index.count("c", flt) == expected
    assert index.count("c", flt) == expected  # and again, the rest of it counted from memory


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


def test_an_empty_tail_is_not_searched_until_written(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = EdgeIndex(tmp_path_factory.mktemp("empty-tail"), auto_optimize=False)
    try:
        index.create_collection("c", model_id="m", dim=DIM, visual_dim=VISUAL_DIM)
        index.upsert("c", BASE)
        index.optimize("c")  # every point in the base; the tail is empty
        asked: list[int] = []
        real = ShardReader.query_batch

        def counted(reader: ShardReader, batch: list[Any], exact: bool) -> Any:
            asked.append(len(batch))
            return real(reader, batch, exact)

        monkeypatch.setattr(ShardReader, "query_batch", counted)
        query = TAIL[0].vectors[SEMANTIC]
        before = index.search("c", query, limit=3, exact=True)
        assert asked == [] and len(before) == 3  # answered by the base alone
        index.upsert("c", [TAIL[0]])  # written: the tail is asked again
        after = index.search("c", query, limit=3, with_vectors=True, exact=True)
        assert asked == [1]
        assert after[0].id == TAIL[0].id and after[0].score == pytest.approx(1.0)
        assert after[0].vectors is not None and SEMANTIC in after[0].vectors
        index.delete("c", [TAIL[0].id])  # recounted after the write: empty again
        assert TAIL[0].id not in {h.id for h in index.search("c", query, limit=3, exact=True)}
        assert asked == [1]
    finally:
        index.close()
