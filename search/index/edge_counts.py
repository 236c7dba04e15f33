"""Point counts of an embedded collection's layers, kept per layer and filter until that layer
is written.

The engine's exact count collects every matching point id: ~3 ms for 100k points on an idle
2-core machine (8 ms CPU loaded), a third of a warm text query's search time, since every
first page reports its ``total``. A base changes only by deletes (and tombstones during a
build), so its counts are asked of the engine once per filter and write.
"""

from __future__ import annotations

from collections.abc import Callable

KEPT = 256  # filters whose counts one layer keeps (all forgotten when full)


class LayerCounts:
    """Counts by (layer, filter key); the owner says which layers were written."""

    def __init__(self) -> None:
        self._known: dict[str, dict[str, int]] = {}

    def get(self, layer: str, key: str, count: Callable[[], int]) -> int:
        known = self._known.setdefault(layer, {})
        if key not in known:
            if len(known) >= KEPT:
                known.clear()
            known[key] = count()
        return known[key]

    def written(self, *layers: str) -> None:
        """Forget the counts of layers whose points changed."""
        for layer in layers:
            self._known.pop(layer, None)

    def clear(self) -> None:
        self._known.clear()
