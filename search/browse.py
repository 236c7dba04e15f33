"""Browse without a query: every item (or those a filter keeps), newest first by date.

The index has no ordered scroll on every adapter, so ``browse`` reads the matching points'
payloads (no vectors) page by page, at most ``max_scan`` of them, sorts them by ``taken_at``
(else ``created_at``) and returns one page. ``capped`` says more items matched than were read:
the order then covers the first ``max_scan`` read. Ties keep id order, so pages are stable.
"""

from __future__ import annotations

from dataclasses import dataclass

from loupe.search.index.base import Filter, Hit, VectorIndex

SORT_KEYS = ("taken_at", "created_at")
MAX_SCAN = 20_000


@dataclass(frozen=True, slots=True)
class BrowsePage:
    hits: list[Hit]
    total: int  # items that matched (read)
    capped: bool
    next_offset: int | None


def _date(hit: Hit, key: str) -> float:
    value = hit.payload.get(key)
    if not isinstance(value, int | float):
        value = hit.payload.get("created_at")
    return float(value) if isinstance(value, int | float) else 0.0


def browse(
    index: VectorIndex,
    collection: str,
    *,
    flt: Filter | None,
    sort: str = "taken_at",
    descending: bool = True,
    limit: int = 24,
    offset: int = 0,
    max_scan: int = MAX_SCAN,
) -> BrowsePage:
    """One page of the items ``flt`` keeps, sorted by ``sort`` (see the module docstring)."""
    if sort not in SORT_KEYS:
        raise ValueError(f"sort must be one of {SORT_KEYS}")
    hits: list[Hit] = []
    cursor: str | None = None
    while len(hits) < max_scan:
        page, cursor = index.scroll(
            collection, flt=flt, limit=min(1024, max_scan - len(hits)), offset=cursor
        )
        hits += page
        if cursor is None:
            break
    capped = cursor is not None
    hits.sort(key=lambda h: _date(h, sort), reverse=descending)
    chosen = hits[offset : offset + limit]
    more = len(hits) > offset + limit
    return BrowsePage(chosen, len(hits), capped, offset + limit if more else None)
