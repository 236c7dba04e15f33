"""ConSE mixing of class text vectors by classifier probabilities."""

from __future__ import annotations

import numpy as np

from loupe.search.encoders.conse import conse, softmax


def test_softmax_rows_sum_to_one() -> None:
    probs = softmax(np.array([[1000.0, 0.0], [0.0, 0.0]], dtype=np.float32))
    np.testing.assert_allclose(probs, [[1.0, 0.0], [0.5, 0.5]], atol=1e-6)


def test_conse_mixes_only_the_top_classes() -> None:
    classes = np.eye(4, dtype=np.float32)
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]], dtype=np.float32))
    top2 = conse(logits, classes, top_k=2)
    expected = np.array([[0.5, 0.3, 0.0, 0.0]]) / np.hypot(0.5, 0.3)
    np.testing.assert_allclose(top2, expected, atol=1e-6)
    assert top2.dtype == np.float32
    assert conse(logits[:0], classes, top_k=2).shape == (0, 4)
