from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from loupe.search.concepts import ConceptQuery
from loupe.search.index.base import CONCEPTS, SEMANTIC, VISUAL, Point, SparseVector
from loupe.search.index.memory_store import NumpyIndex
from loupe.search.paging import PageRequest, fetch_page, next_size, result_hit, vector_names


def request(*, limit: int, offset: int, collapse: bool) -> PageRequest:
    return PageRequest(
        vector=np.array([1, 0], dtype=np.float32),
        using=SEMANTIC,
        flt=None,
        limit=limit,
        offset=offset,
        score_threshold=None,
        collapse=collapse,
        with_vectors=False,
    )


def test_fetch_grows_until_folding_leaves_a_full_page(index: NumpyIndex) -> None:
    index.create_collection("c", model_id="m", dim=2, visual_dim=2)
    same = np.array([1, 0], dtype=np.float32)
    points = [
        Point(f"dup{n:02d}", {SEMANTIC: np.array([1, 0.01 * n], np.float32), VISUAL: same}, {})
        for n in range(20)
    ]
    points.append(
        Point(
            "other",
            {SEMANTIC: np.array([0.5, 1], np.float32), VISUAL: np.array([0, 1], np.float32)},
            {"modality": "image"},
        )
    )
    index.upsert("c", points)
    hits, groups, _ = fetch_page(
        index,
        "c",
        request(limit=1, offset=1, collapse=True),
        duplicate_threshold=0.95,
        max_candidates=1000,
    )
    assert [g.leader.id for g in groups] == ["dup00", "other"]
    assert len(groups[0].duplicates) == 19
    assert len(hits) == 21
    page = result_hit(groups[1], with_vectors=False)
    assert (page.id, page.modality, page.vectors) == ("other", "image", None)
    capped, capped_groups, _ = fetch_page(
        index,
        "c",
        request(limit=1, offset=1, collapse=True),
        duplicate_threshold=0.95,
        max_candidates=8,
    )
    assert len(capped) == 8
    assert len(capped_groups) == 1  # the cap bounds the work: the page comes back short
    flat, flat_groups, _ = fetch_page(
        index,
        "c",
        request(limit=2, offset=3, collapse=False),
        duplicate_threshold=0.95,
        max_candidates=1000,
    )
    assert len(flat) == len(flat_groups) == 6


def test_next_fetch_doubles_or_extrapolates_the_fold_rate() -> None:
    assert next_size(31, leaders=9, wanted=11) == 62  # light folding: doubling is enough
    # 31 candidates folded into 2 leaders; 11 wanted: 31 * 11 / 2 * 1.5 = 255.75
    assert next_size(31, leaders=2, wanted=11) == 256
    assert next_size(31, leaders=0, wanted=11) == 512  # no leader at all counts as one


def flood(index: NumpyIndex) -> None:
    """Collection ``c``: 300 near-copies of one photo ranked first, then 3 other photos."""
    index.create_collection("c", model_id="m", dim=2, visual_dim=2)
    same = np.array([1, 0], dtype=np.float32)
    copies = [
        Point(f"dup{n:03d}", {SEMANTIC: np.array([1, 0.001 * n], np.float32), VISUAL: same}, {})
        for n in range(300)
    ]
    others = [
        Point(
            f"other{n}",
            {SEMANTIC: np.array([0.5, 1 + n], np.float32), VISUAL: np.array([-1, n], np.float32)},
            {},
        )
        for n in range(3)
    ]
    index.upsert("c", copies + others)


def test_candidates_carry_only_the_vectors_folding_and_calibration_read() -> None:
    def names(**changes: Any) -> object:
        return vector_names(replace(request(limit=10, offset=0, collapse=True), **changes))

    assert names() == (SEMANTIC, VISUAL)  # a text query folds images (visual) and texts
    assert names(using=VISUAL) == (VISUAL,)  # a visual search only finds images
    assert names(collapse=False) is False
    assert names(collapse=False, calibration_k=16) == (SEMANTIC,)
    assert names(using=VISUAL, with_vectors=True) is True  # the caller asked for all of them


def test_a_flood_of_near_copies_takes_few_fetches_and_each_vector_once(
    index: NumpyIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fetch grows by extrapolating the fold rate, and growing re-searches without
    vectors, retrieving only those of the candidates not fetched before (a page of
    near-copies grew to ~440, each step refetching every vector)."""
    flood(index)
    sizes: list[int] = []
    with_vectors: list[int] = []  # candidates that came with their vectors, per search
    retrieved: list[str] = []
    search, retrieve = index.search, index.retrieve

    def searching(*args: Any, **kwargs: Any) -> Any:
        sizes.append(int(kwargs["limit"]))
        hits = search(*args, **kwargs)
        with_vectors.append(sum(1 for h in hits if h.vectors))
        return hits

    asked: list[object] = []

    def retrieving(collection: str, ids: Any, **kwargs: Any) -> Any:
        retrieved.extend(ids)
        asked.append(kwargs["with_vectors"])
        return retrieve(collection, ids, **kwargs)

    monkeypatch.setattr(index, "search", searching)
    monkeypatch.setattr(index, "retrieve", retrieving)
    hits, groups, _ = fetch_page(
        index,
        "c",
        request(limit=2, offset=0, collapse=True),
        duplicate_threshold=0.95,
        max_candidates=1000,
    )
    assert [g.leader.id for g in groups[:2]] == ["dup000", "other0"]
    assert len(groups[0].duplicates) == 299
    assert sizes == [7, 32, 144, 648]  # doubling: 7, 14, 28, 56, 112, 224, 448
    assert with_vectors == [7, 0, 0, 0]  # only the first fetch carries them
    assert len(retrieved) == len(set(retrieved)) == 303 - 7  # each of the rest once
    assert set(asked) == {(SEMANTIC, VISUAL)}  # what folding reads, not every vector
    assert all(h.vectors is not None and VISUAL in h.vectors for h in hits)


def test_a_grown_fused_page_keeps_each_candidates_concepts(
    index: NumpyIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the concept route, grown candidates keep the concepts their fused score and their
    ``why`` read, and get the vectors folding reads: only ``visual``, as the concept route's
    candidates carry ``semantic``."""
    index.create_collection("c", model_id="m", dim=2, visual_dim=2)
    same = np.array([1, 0], dtype=np.float32)
    concept = {CONCEPTS: SparseVector.of({7: 0.9})}
    index.upsert(
        "c",
        [
            Point(f"dup{n:03d}", {SEMANTIC: np.array([1, 0.001 * n], np.float32), VISUAL: same},
                  {}, concept)
            for n in range(100)
        ]
        + [
            Point("other", {SEMANTIC: np.array([0.5, 1], np.float32),
                            VISUAL: np.array([-1, 0], np.float32)}, {}, concept)
        ],
    )  # fmt: skip
    fused = replace(
        request(limit=2, offset=0, collapse=True),
        concepts=ConceptQuery(weights={7: 1.0}),
        concept_weight=0.5,
    )
    asked: list[object] = []
    retrieve = index.retrieve

    def retrieving(collection: str, ids: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["with_vectors"])
        return retrieve(collection, ids, **kwargs)

    monkeypatch.setattr(index, "retrieve", retrieving)
    hits, groups, _ = fetch_page(index, "c", fused, duplicate_threshold=0.95, max_candidates=1000)
    assert set(asked) == {(VISUAL,)}
    assert [g.leader.id for g in groups] == ["dup000", "other"]
    assert len(hits) == 101  # grown past the first fetch of 7
    assert all(h.sparse and CONCEPTS in h.sparse for h in hits)
    assert all(h.vectors and VISUAL in h.vectors for h in hits)
