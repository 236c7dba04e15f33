from __future__ import annotations

import threading

import numpy as np
import pytest

from loupe.search.index.base import (
    SEMANTIC,
    VISUAL,
    CollectionNotFound,
    Filter,
    IndexUnavailable,
    ModelMismatch,
    Point,
    Range,
)
from loupe.search.index.memory_store import NumpyIndex


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def filled(index: NumpyIndex) -> NumpyIndex:
    index.create_collection("c", model_id="m", dim=3, visual_dim=2)
    index.upsert(
        "c",
        [
            Point(
                "a",
                {SEMANTIC: unit(1, 0, 0), VISUAL: unit(1, 0)},
                {
                    "modality": "image",
                    "tags": ["cat", "pet"],
                    "width": 10,
                    "metadata": {"camera": "X"},
                },
            ),
            Point("b", {SEMANTIC: unit(1, 1, 0)}, {"modality": "text", "tags": ["dog"]}),
            Point(
                "c",
                {SEMANTIC: unit(0, 1, 0), VISUAL: unit(0, 1)},
                {"modality": "image", "width": 30, "flag": True, "count": 1},
            ),
            Point("d", {SEMANTIC: unit(1, 1, 0)}, {"modality": "text", "width": "wide"}),
        ],
    )
    return index


def test_collections_are_stamped_and_checked(index: NumpyIndex) -> None:
    index.create_collection("c", model_id="m", dim=3, visual_dim=None)
    index.create_collection("c", model_id="m", dim=3, visual_dim=None)  # identical: no-op
    with pytest.raises(ModelMismatch):
        index.create_collection("c", model_id="other", dim=3, visual_dim=None)
    with pytest.raises(ModelMismatch):
        index.open_collection("c", model_id="m", dim=4)
    info = index.open_collection("c", model_id="m", dim=3)
    assert (info.name, info.model_id, info.dim, info.visual_dim, info.points) == (
        "c",
        "m",
        3,
        None,
        0,
    )
    with pytest.raises(CollectionNotFound):
        index.collection_info("missing")


def test_aliases_move_atomically_and_die_with_their_collection(index: NumpyIndex) -> None:
    for name in ("one", "two"):
        index.create_collection(name, model_id="m", dim=2, visual_dim=None)
    index.set_alias("live", "one")
    assert index.collection_info("live").name == "one"
    index.set_alias("live", "two")
    assert index.resolve_alias("live") == "two"
    assert index.collection_info("two").aliases == ["live"]
    index.drop_collection("two")
    assert index.resolve_alias("live") is None
    with pytest.raises(CollectionNotFound):
        index.set_alias("live", "two")
    assert [c.name for c in index.list_collections()] == ["one"]


def test_upsert_checks_vectors(filled: NumpyIndex) -> None:
    with pytest.raises(ValueError, match="bad vector"):
        filled.upsert("c", [Point("x", {SEMANTIC: unit(1, 0)}, {})])
    with pytest.raises(ValueError, match="no 'semantic'"):
        filled.upsert("c", [Point("x", {VISUAL: unit(1, 0)}, {})])
    with pytest.raises(CollectionNotFound):
        filled.upsert("nope", [])
    assert filled.count("c") == 4


def test_retrieve_keeps_order_and_copies(filled: NumpyIndex) -> None:
    hits = filled.retrieve("c", ["c", "missing", "a"], with_vectors=True)
    assert [h.id for h in hits] == ["c", "a"]
    assert hits[1].vectors is not None
    assert set(hits[1].vectors) == {SEMANTIC, VISUAL}
    hits[1].payload["tags"].append("mutated")
    assert filled.retrieve("c", ["a"])[0].payload["tags"] == ["cat", "pet"]
    assert filled.retrieve("c", ["a"])[0].vectors is None


def test_search_ranks_exactly_with_ties_by_id(filled: NumpyIndex) -> None:
    hits = filled.search("c", unit(1, 1, 0), limit=10)
    assert [h.id for h in hits] == ["b", "d", "a", "c"]
    assert hits[0].score == pytest.approx(1.0)
    assert [h.id for h in filled.search("c", unit(1, 1, 0), limit=2, offset=1)] == ["d", "a"]
    assert [h.id for h in filled.search("c", unit(1, 1, 0), limit=1)] == ["b"]
    assert [h.id for h in filled.search("c", unit(1, 1, 0), limit=1, offset=1)] == ["d"]
    above = filled.search("c", unit(1, 1, 0), score_threshold=0.9)
    assert [h.id for h in above] == ["b", "d"]


def test_visual_search_skips_points_without_visual(filled: NumpyIndex) -> None:
    hits = filled.search("c", unit(0, 1), using=VISUAL)
    assert [h.id for h in hits] == ["c", "a"]
    filled.create_collection("t", model_id="m", dim=3, visual_dim=None)
    with pytest.raises(ValueError, match="no 'visual'"):
        filled.search("t", unit(0, 1), using=VISUAL)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (Filter(equals={"modality": "text"}), {"b", "d"}),
        (Filter(equals={"metadata.camera": "X"}), {"a"}),
        (Filter(equals={"tags": "pet"}), {"a"}),
        (Filter(equals={"flag": 1}), set()),
        (Filter(equals={"count": 1}), {"c"}),
        (Filter(equals={"flag": True}), {"c"}),
        (Filter(any_of={"tags": ["dog", "cat"]}), {"a", "b"}),
        (Filter(ranges={"width": Range(gte=5, lte=20)}), {"a"}),
        (Filter(ranges={"width": Range(gte=5)}), {"a", "c"}),
        (Filter(tags_any=["pet", "bird"]), {"a"}),
        (Filter(ids_not=["a", "b"]), {"c", "d"}),
        (Filter(equals={"modality": "image"}, ranges={"width": Range(lte=20)}), {"a"}),
        (Filter(), {"a", "b", "c", "d"}),
    ],
)
def test_filters(filled: NumpyIndex, flt: Filter, expected: set[str]) -> None:
    assert {h.id for h in filled.search("c", unit(1, 0, 0), flt=flt)} == expected
    assert filled.count("c", flt) == len(expected)


def test_scroll_pages_in_id_order(filled: NumpyIndex) -> None:
    page, nxt = filled.scroll("c", limit=3)
    assert [h.id for h in page] == ["a", "b", "c"]
    assert nxt == "d"
    page, nxt = filled.scroll("c", limit=3, offset=nxt)
    assert ([h.id for h in page], nxt) == (["d"], None)
    page, _ = filled.scroll("c", flt=Filter(equals={"modality": "text"}), with_vectors=True)
    assert [h.id for h in page] == ["b", "d"]
    assert page[0].vectors is not None


def test_delete_and_upsert_change_search(filled: NumpyIndex) -> None:
    filled.delete("c", ["b", "missing"])
    filled.upsert("c", [Point("a", {SEMANTIC: unit(0, 0, 1)}, {"modality": "text"})])
    hits = filled.search("c", unit(0, 0, 1), limit=1)
    assert (hits[0].id, hits[0].payload) == ("a", {"modality": "text"})
    assert filled.count("c") == 3


def test_concurrent_writers_and_readers(index: NumpyIndex) -> None:
    index.create_collection("c", model_id="m", dim=8, visual_dim=None)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        rng = np.random.default_rng(worker)
        for n in range(50):
            vec = rng.standard_normal(8).astype(np.float32)
            index.upsert("c", [Point(f"{worker}-{n}", {SEMANTIC: vec}, {"w": worker})])

    def read() -> None:
        try:
            for _ in range(50):
                index.search("c", np.ones(8, dtype=np.float32), limit=5)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(3)]
    threads += [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert index.count("c") == 150


def test_closed_index_is_unavailable(filled: NumpyIndex) -> None:
    filled.close()
    with pytest.raises(IndexUnavailable):
        filled.search("c", unit(1, 0, 0))
