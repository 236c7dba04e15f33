"""Vectors as the engines return them (lists of Python floats) become the same float32 arrays
whichever way they are converted."""

from __future__ import annotations

import numpy as np

from loupe.search.index.qdrant_filters import floats, to_hit


def test_floats_equal_numpy_conversion_exactly() -> None:
    rng = np.random.default_rng(0)
    for values in (
        [float(x) for x in rng.standard_normal(1280)],
        [1, 2.5, -0.0, 1e-40, 3.4e38, 1 / 3],  # ints, a denormal for float32, the float32 max
        [],
    ):
        got = floats(values)
        assert got.dtype == np.float32
        assert np.array_equal(got, np.asarray(values, dtype=np.float32))
    as_array = np.arange(4, dtype=np.float64)
    assert np.array_equal(floats(as_array), as_array.astype(np.float32))


def test_a_hit_carries_its_vectors_as_float32() -> None:
    hit = to_hit("a", 0.5, {"k": 1}, {"semantic": [0.25, 0.5], "visual": [1.0]}, True)
    assert hit.vectors is not None
    assert hit.vectors["semantic"].dtype == np.float32
    assert hit.vectors["semantic"].tolist() == [0.25, 0.5]
