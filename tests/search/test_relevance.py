from __future__ import annotations

import math

import numpy as np
import pytest

from loupe.search.relevance import Reference, debias, relevance


def test_debias_removes_the_shared_component() -> None:
    axis = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    rows = np.array([[0.9, 0.3, 0.0], [0.9, 0.0, 0.3]], dtype=np.float32)
    out = debias(rows, axis)
    assert out == pytest.approx(np.array([[0, 1, 0], [0, 0, 1]], dtype=np.float32))
    assert debias(rows, None) == pytest.approx(rows / np.linalg.norm(rows, axis=1)[:, None])


def test_relevance_is_the_best_debiased_cosine() -> None:
    axis = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    reference = Reference(query_axis=axis, item_axis=axis, cut=0.5)
    query = np.array([0.95, 0.31, 0.0], dtype=np.float32)
    near, far = np.array([0.9, 0.4, 0.1]), np.array([0.9, -0.1, 0.4])
    candidates = [far.astype(np.float32), near.astype(np.float32)]
    # raw cosines are all ~0.9; after debiasing the near candidate clearly wins
    assert relevance(query, candidates, reference) == pytest.approx(0.4 / np.hypot(0.4, 0.1))
    assert relevance(query, [], reference) == -math.inf
