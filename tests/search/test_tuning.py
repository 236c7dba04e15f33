"""``search.index.tuning.search_ef``: how wide each search walks the graph."""

from __future__ import annotations

import numpy as np

from loupe.search.index.base import SEMANTIC, VISUAL
from loupe.search.index.edge_requests import DenseRequests, dense_requests
from loupe.search.index.tuning import HNSW_EF, HNSW_EF_VISUAL, OVERSAMPLING, search_ef


def test_text_searches_walk_wider_than_photo_searches() -> None:
    # USE's text space needs ef 2048 for recall@10 >= 0.98 at 100k; visual keeps 768
    assert search_ef(10, 0, using=SEMANTIC) == HNSW_EF == 2048
    assert search_ef(10, 0, using=VISUAL) == HNSW_EF_VISUAL == 768
    assert search_ef(10, 0, using=VISUAL, floor=64) == 64  # a smaller floor wins
    assert search_ef(1000, 2000, using=VISUAL) == 3000  # always at least offset + limit


def test_a_dense_request_carries_its_breadth_and_oversampling() -> None:
    """The request is plain data: a base's host process reads nothing from its own modules."""
    make = dense_requests(
        np.ones(4, dtype=np.float32),
        using=VISUAL,
        limit=10,
        offset=0,
        score_threshold=None,
        with_vectors=False,
        exact=False,
        hnsw_ef=HNSW_EF,
    )
    assert isinstance(make, DenseRequests)
    assert (make.hnsw_ef, make.oversampling) == (HNSW_EF_VISUAL, OVERSAMPLING)
    request = make(None, False)
    assert request.params is not None
