"""One test body for every ``VectorIndex`` adapter: qdrant-client ``:memory:`` and qdrant-edge."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from loupe.search.index import (
    SEMANTIC,
    VISUAL,
    CollectionNotFound,
    Filter,
    ModelMismatch,
    Point,
    Range,
    VectorIndex,
)
from loupe.search.index.client_store import ClientIndex
from loupe.search.index.edge_store import EdgeIndex
from loupe.search.index.memory_store import NumpyIndex

DIM, VISUAL_DIM = 16, 8


@pytest.fixture(params=["client", "edge"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorIndex]:
    store: VectorIndex = (
        ClientIndex(":memory:") if request.param == "client" else EdgeIndex(tmp_path)
    )
    yield store
    store.close()


def pid(i: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"loupe-test-{i}"))


def unit(rng: np.random.Generator, dim: int) -> NDArray[np.float32]:
    v = rng.standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def make_points(n: int, seed: int = 0) -> list[Point]:
    """Even points are images (semantic + visual), odd ones texts (semantic only)."""
    rng = np.random.default_rng(seed)
    points = []
    for i in range(n):
        vectors = {SEMANTIC: unit(rng, DIM)}
        if i % 2 == 0:
            vectors[VISUAL] = unit(rng, VISUAL_DIM)
        payload = {
            "modality": "image" if i % 2 == 0 else "text",
            "tags": [f"t{i % 3}", "all"],
            "width": i * 10,
            "created_at": 1_700_000_000.0 + i,
            "metadata": {"camera": "nikon" if i % 4 == 0 else "canon"},
            "enrich": {"night": i % 5 == 0},
            "i": i,
        }
        points.append(Point(id=pid(i), vectors=vectors, payload=payload))
    return points


def fill(index: VectorIndex, n: int = 40, name: str = "c1") -> list[Point]:
    index.create_collection(name, model_id="m1", dim=DIM, visual_dim=VISUAL_DIM)
    points = make_points(n)
    index.upsert(name, points)
    return points


def test_search_ranks_by_dot_product(index: VectorIndex) -> None:
    points = fill(index)
    matrix = np.stack([p.vectors[SEMANTIC] for p in points])
    query = points[7].vectors[SEMANTIC]
    expected = [points[i].id for i in np.argsort(-(matrix @ query))]
    for exact in (False, True):
        hits = index.search("c1", query, limit=10, exact=exact)
        assert [h.id for h in hits] == expected[:10]
        assert hits[0].score == pytest.approx(1.0, abs=1e-5)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert hits[0].payload["i"] == 7
        assert hits[0].vectors is None
    page2 = index.search("c1", query, limit=5, offset=5)
    assert [h.id for h in page2] == expected[5:10]
    threshold = float(np.sort(matrix @ query)[-4]) - 1e-4
    assert [h.id for h in index.search("c1", query, score_threshold=threshold)] == expected[:4]
    with_vec = index.search("c1", query, limit=1, with_vectors=True)[0]
    assert with_vec.vectors is not None
    np.testing.assert_allclose(with_vec.vectors[SEMANTIC], query, atol=1e-5)


def test_named_vectors_text_points_have_no_visual(index: VectorIndex) -> None:
    points = fill(index)
    hits = index.search("c1", points[4].vectors[VISUAL], using=VISUAL, limit=100)
    assert hits[0].id == points[4].id
    assert {h.payload["modality"] for h in hits} == {"image"}
    assert len(hits) == 20
    text, image = index.retrieve("c1", [points[1].id, points[2].id], with_vectors=True)
    assert text.vectors is not None
    assert set(text.vectors) == {SEMANTIC}
    assert image.vectors is not None
    assert set(image.vectors) == {SEMANTIC, VISUAL}


@pytest.mark.parametrize("store", ["client", "edge", "numpy"])
def test_search_returns_only_the_named_vectors(store: str, tmp_path: Path) -> None:
    index: VectorIndex
    if store == "client":
        index = ClientIndex(":memory:")
    elif store == "edge":
        index = EdgeIndex(tmp_path)
    else:
        index = NumpyIndex()
    points = fill(index)
    query = points[4].vectors[SEMANTIC]
    try:
        for wanted, image_names, text_names in (
            ((VISUAL,), {VISUAL}, set()),
            ((SEMANTIC,), {SEMANTIC}, {SEMANTIC}),
            ((SEMANTIC, VISUAL), {SEMANTIC, VISUAL}, {SEMANTIC}),
            (True, {SEMANTIC, VISUAL}, {SEMANTIC}),
        ):
            hits = index.search("c1", query, limit=40, with_vectors=wanted)
            assert len(hits) == 40
            for hit in hits:
                expected = image_names if hit.payload["modality"] == "image" else text_names
                assert set(hit.vectors or {}) == expected, (wanted, hit.payload["modality"])
            image = next(h for h in hits if h.id == points[4].id)
            if VISUAL in image_names:
                assert image.vectors is not None
                np.testing.assert_allclose(
                    image.vectors[VISUAL], points[4].vectors[VISUAL], atol=1e-5
                )
    finally:
        index.close()


@pytest.mark.parametrize(
    ("flt", "keep"),
    [
        (Filter(equals={"modality": "image"}), lambda i: i % 2 == 0),
        (Filter(equals={"metadata.camera": "nikon"}), lambda i: i % 4 == 0),
        (Filter(equals={"i": 5}), lambda i: i == 5),
        (Filter(equals={"enrich.night": True}), lambda i: i % 5 == 0),
        (Filter(equals={"enrich.night": False}), lambda i: i % 5 != 0),
        (Filter(any_of={"modality": ["text", "audio"]}), lambda i: i % 2 == 1),
        (Filter(any_of={"i": [1, 2, 3]}), lambda i: i in (1, 2, 3)),
        (Filter(ranges={"width": Range(gte=100, lte=200)}), lambda i: 10 <= i <= 20),
        (Filter(ranges={"width": Range(gte=300)}), lambda i: i >= 30),
        (Filter(ranges={"created_at": Range(lte=1_700_000_004.0)}), lambda i: i <= 4),
        (Filter(tags_any=["t1", "t2"]), lambda i: i % 3 != 0),
        (Filter(ids_not=[pid(0), pid(1)]), lambda i: i > 1),
        (
            Filter(
                equals={"modality": "image"},
                ranges={"width": Range(lte=250)},
                tags_any=["t0"],
                ids_not=[pid(6)],
            ),
            lambda i: i % 2 == 0 and i <= 25 and i % 3 == 0 and i != 6,
        ),
    ],
)
def test_filters(index: VectorIndex, flt: Filter, keep: object) -> None:
    points = fill(index)
    assert callable(keep)
    expected = {p.id for p in points if keep(p.payload["i"])}
    assert expected
    assert index.count("c1", flt) == len(expected)
    hits = index.search("c1", points[0].vectors[SEMANTIC], flt=flt, limit=100)
    assert {h.id for h in hits} == expected
    page, _ = index.scroll("c1", flt=flt, limit=100)
    assert {h.id for h in page} == expected


def test_scroll_pages_cover_every_point_once_in_id_order(index: VectorIndex) -> None:
    points = fill(index, n=53)
    for flt in (None, Filter(equals={"modality": "text"})):
        seen: list[str] = []
        offset: str | None = None
        while True:
            page, offset = index.scroll("c1", flt=flt, limit=10, offset=offset)
            seen.extend(h.id for h in page)
            if offset is None:
                break
        wanted = [p.id for p in points if flt is None or p.payload["modality"] == "text"]
        assert seen == sorted(wanted)


def test_retrieve_keeps_order_and_skips_missing(index: VectorIndex) -> None:
    fill(index)
    asked = [pid(9), str(uuid.uuid4()), pid(2), pid(30)]
    hits = index.retrieve("c1", asked)
    assert [h.id for h in hits] == [pid(9), pid(2), pid(30)]
    assert hits[0].payload["i"] == 9
    assert hits[0].vectors is None


def test_retrieve_brings_the_vectors_named(index: VectorIndex) -> None:
    points = fill(index)
    if isinstance(index, EdgeIndex):
        index.optimize("c1")  # these 40 in a base (its host's pipe); the next in the tail
    later = make_points(42, seed=1)[40:]
    index.upsert("c1", [replace(p, id=pid(40 + n)) for n, p in enumerate(later)])
    asked = [pid(2), pid(3), pid(40), pid(41)]
    image, text, tail_image, tail_text = index.retrieve("c1", asked, with_vectors=(VISUAL,))
    assert set(image.vectors or {}) == set(tail_image.vectors or {}) == {VISUAL}
    assert not text.vectors and not tail_text.vectors  # a text has no visual vector
    assert image.vectors is not None and tail_image.vectors is not None
    # a base keeps visual vectors as float16
    np.testing.assert_allclose(image.vectors[VISUAL], points[2].vectors[VISUAL], atol=1e-3)
    np.testing.assert_allclose(tail_image.vectors[VISUAL], later[0].vectors[VISUAL], atol=1e-6)
    every = index.retrieve("c1", [pid(2), pid(40)], with_vectors=True)
    assert [set(h.vectors or {}) for h in every] == [{SEMANTIC, VISUAL}] * 2


def test_delete_and_count(index: VectorIndex) -> None:
    fill(index)
    assert index.count("c1") == 40
    index.delete("c1", [pid(0), pid(1), str(uuid.uuid4())])
    assert index.count("c1") == 38
    assert index.retrieve("c1", [pid(0), pid(1)]) == []
    assert index.count("c1", Filter(equals={"modality": "image"})) == 19


def test_reupsert_same_id_overwrites(index: VectorIndex) -> None:
    points = fill(index)
    changed = Point(id=points[3].id, vectors=points[3].vectors, payload={"i": 3, "v": 2})
    index.upsert("c1", [changed])
    index.upsert("c1", [changed])
    assert index.count("c1") == 40
    assert index.retrieve("c1", [points[3].id])[0].payload == {"i": 3, "v": 2}


def test_aliases_switch_atomically(index: VectorIndex) -> None:
    fill(index, n=10, name="gen1")
    index.create_collection("gen2", model_id="m1", dim=DIM, visual_dim=VISUAL_DIM)
    index.upsert("gen2", make_points(3, seed=1))
    assert index.resolve_alias("loupe") is None
    index.set_alias("loupe", "gen1")
    assert index.resolve_alias("loupe") == "gen1"
    assert index.count("loupe") == 10
    index.set_alias("loupe", "gen2")
    assert index.resolve_alias("loupe") == "gen2"
    assert index.count("loupe") == 3
    info = index.collection_info("loupe")
    assert (info.name, info.points, info.aliases) == ("gen2", 3, ["loupe"])
    listed = {c.name: (c.points, c.aliases) for c in index.list_collections()}
    assert listed == {"gen1": (10, []), "gen2": (3, ["loupe"])}
    with pytest.raises(CollectionNotFound):
        index.set_alias("loupe", "nope")
    index.set_alias("loupe__next", "gen1")
    index.delete_alias("loupe__next")
    index.delete_alias("never-existed")
    assert index.resolve_alias("loupe__next") is None
    assert index.collection_info("gen1").points == 10
    index.drop_collection("gen2")
    assert index.resolve_alias("loupe") is None
    assert [c.name for c in index.list_collections()] == ["gen1"]
    with pytest.raises(CollectionNotFound):
        index.collection_info("gen2")


def test_model_stamp_refuses_other_models(index: VectorIndex) -> None:
    fill(index, n=2)
    index.set_alias("loupe", "c1")
    info = index.open_collection("loupe", model_id="m1", dim=DIM)
    assert (info.name, info.model_id, info.dim, info.visual_dim) == ("c1", "m1", DIM, VISUAL_DIM)
    assert info.created_at > 0
    with pytest.raises(ModelMismatch, match="reindex"):
        index.open_collection("loupe", model_id="m2", dim=DIM)
    with pytest.raises(ModelMismatch):
        index.open_collection("c1", model_id="m1", dim=DIM * 2)
    index.create_collection("c1", model_id="m1", dim=DIM, visual_dim=VISUAL_DIM)  # no-op
    assert index.count("c1") == 2
    with pytest.raises(ModelMismatch):
        index.create_collection("c1", model_id="m1", dim=DIM, visual_dim=None)
    with pytest.raises(CollectionNotFound):
        index.open_collection("missing", model_id="m1", dim=DIM)
