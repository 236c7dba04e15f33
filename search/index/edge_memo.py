"""The vectors of a tail's points, kept in the serving process once read (``LayerReads``).

A tail (up to ``build_after`` points, 10,000 by default) is searched in the serving process,
and the candidates that make a page get their vectors afterwards (folding and judging read
them). qdrant-edge hands vectors out as Python floats: ~110 us a point for a ``semantic`` and
a ``visual`` vector, so a text query over a library still in its tail spent 8-15 ms of its
22-34 ms retrieving the same ~70 points' vectors again (ad hoc, 266 photos, 1 Dec 2026). The
memo keeps them as float32 arrays (and sparse vectors) for the last ``MEMO_POINTS`` points read.

Writes to a tail forget the points they touch (``forget``). A read that raced a write cannot
store what it read: ``token`` is taken before the engine is asked, and ``put`` stores only if
no write to that layer happened since.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import numpy as np

MEMO_POINTS = 4096  # ~7.2 KB each with a 512-d semantic and a 1,280-d visual vector: ~30 MB


class VectorMemo:
    """(layer, point id) → the point's vectors (all of them, as retrieved), least recently
    used first out."""

    def __init__(self, capacity: int = MEMO_POINTS) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._writes: dict[str, int] = {}
        self._lock = threading.Lock()

    def get(self, layer: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The kept vectors of those of ``ids`` that are kept."""
        found: dict[str, dict[str, Any]] = {}
        with self._lock:
            for point in ids:
                vectors = self._kept.get((layer, point))
                if vectors is not None:
                    self._kept.move_to_end((layer, point))
                    found[point] = vectors
        return found

    def token(self, layer: str) -> int:
        """The layer's write count, to give ``put`` for what is read from now on."""
        with self._lock:
            return self._writes.get(layer, 0)

    def put(self, layer: str, token: int, vectors: dict[str, dict[str, Any]]) -> None:
        """Keep ``vectors`` (point id → all its vectors) read since ``token``, unless the layer
        was written since."""
        with self._lock:
            if self._writes.get(layer, 0) != token:
                return
            for point, named in vectors.items():
                self._kept[(layer, point)] = {k: _own(v) for k, v in named.items()}
                self._kept.move_to_end((layer, point))
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)

    def forget(self, layer: str, ids: Iterable[str]) -> None:
        """``ids`` of ``layer`` were written (upserted or deleted)."""
        with self._lock:
            self._writes[layer] = self._writes.get(layer, 0) + 1
            for point in ids:
                self._kept.pop((layer, point), None)


def _own(value: Any) -> Any:
    """A dense vector as its own read-only array (not a row of a retrieval's matrix, which it
    would keep alive; every search that reads it shares it); anything else as it is (sparse
    vectors are tuples)."""
    if not isinstance(value, np.ndarray):
        return value
    owned = np.array(value, dtype=np.float32)
    owned.setflags(write=False)
    return owned
