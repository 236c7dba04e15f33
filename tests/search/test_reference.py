from __future__ import annotations

import math

import numpy as np
import pytest

from loupe.search.encoders.base import TextRole
from loupe.search.index.base import SEMANTIC, Point
from loupe.search.index.memory_store import NumpyIndex
from loupe.search.reference import item_axis, null_cut
from tests.search.conftest import HashingEncoder


def test_cut_formula() -> None:
    scores = [float(s) for s in np.linspace(0.0, 1.0, 101)]
    q95, q50 = 0.95, 0.5
    assert null_cut(scores, margin=0.25) == pytest.approx(q95 + 0.25 * (q95 - q50))
    assert null_cut([], margin=0.25) == math.inf


def test_a_tiny_collection_has_no_item_axis(index: NumpyIndex) -> None:
    encoder = HashingEncoder()
    index.create_collection("c", model_id=encoder.model_id, dim=encoder.dim, visual_dim=None)
    texts = ["red apple", "blue ocean waves", "green forest", "yellow sun", "black night sky"]
    for name, batch in (("p", texts), ("w", [f"word{n}" for n in range(10)])):
        vectors = encoder.encode_texts(batch, role=TextRole.PASSAGE)
        index.upsert("c", [Point(f"{name}{n}", {SEMANTIC: v}, {}) for n, v in enumerate(vectors)])
        if name == "p":
            assert item_axis(index, "c") is None
    axis = item_axis(index, "c")
    assert axis is not None
    assert float(np.linalg.norm(axis)) == pytest.approx(1.0)
