from __future__ import annotations

import numpy as np
import pytest

from loupe.search.cache import QueryCache


def test_lru_eviction_and_model_keys() -> None:
    cache = QueryCache(2)
    one, two, three = (np.full(2, n, dtype=np.float32) for n in (1, 2, 3))
    cache.put("m", "a", one)
    cache.put("m", "b", two)
    assert cache.get("m", "a") == pytest.approx(one)  # a is now the most recent
    cache.put("m", "c", three)
    assert cache.get("m", "b") is None
    assert cache.get("other-model", "a") is None
    assert len(cache) == 2
    assert (cache.hits, cache.misses) == (1, 2)


def test_cached_vectors_are_read_only_copies() -> None:
    cache = QueryCache(4)
    vector = np.ones(3, dtype=np.float32)
    cache.put("m", "a", vector)
    vector[0] = 5
    got = cache.get("m", "a")
    assert got is not None
    assert got[0] == 1
    with pytest.raises(ValueError, match="read-only"):
        got[0] = 2


def test_size_zero_keeps_nothing() -> None:
    cache = QueryCache(0)
    cache.put("m", "a", np.ones(2, dtype=np.float32))
    assert cache.get("m", "a") is None
    with pytest.raises(ValueError, match="size"):
        QueryCache(-1)
