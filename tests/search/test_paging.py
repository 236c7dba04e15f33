from __future__ import annotations

import numpy as np

from search.index.base import SEMANTIC, VISUAL, Point
from search.index.memory_store import NumpyIndex
from search.paging import PageRequest, fetch_page, result_hit


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
    hits, groups = fetch_page(
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
    capped, capped_groups = fetch_page(
        index,
        "c",
        request(limit=1, offset=1, collapse=True),
        duplicate_threshold=0.95,
        max_candidates=8,
    )
    assert len(capped) == 8
    assert len(capped_groups) == 1  # the cap bounds the work: the page comes back short
    flat, flat_groups = fetch_page(
        index,
        "c",
        request(limit=2, offset=3, collapse=False),
        duplicate_threshold=0.95,
        max_candidates=1000,
    )
    assert len(flat) == len(flat_groups) == 6
