"""Browse without a query: every item (or those a filter keeps), newest first by date.

The index serves the order: ``VectorIndex.scroll_ordered`` reads the first ``offset + limit + 1``
points by the payload number ``sort`` (``taken_at``, which ingest always writes, falling back to
the upload time, or ``created_at``) through the stores' payload index on it, so a page costs what
its position costs, whatever the library's size. Points tied on the date at the page's edge are
all read and ordered by id, so pages are exact and stable: the order is (date, id).

Points with no number at ``sort`` (written by hand, or before ``taken_at`` existed) cannot be
ordered by the index. When a count shows some (``count`` of the filter with and without a range
on ``sort``), ``browse`` falls back to reading up to ``max_scan`` payloads and sorting them in
memory, those points by ``created_at``; ``capped`` then says more items matched than were read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from loupe.search.index.base import Filter, Hit, Range, VectorIndex

SORT_KEYS = ("taken_at", "created_at")
MAX_SCAN = 20_000
EVERY_DATE = Range(gte=-1e18)  # any number: the points that can be ordered by the key


@dataclass(frozen=True, slots=True)
class BrowsePage:
    hits: list[Hit]
    total: int  # items that matched (read, when capped)
    capped: bool
    next_offset: int | None


def _date(hit: Hit, key: str) -> float:
    value = hit.payload.get(key)
    if not isinstance(value, int | float):
        value = hit.payload.get("created_at")
    return float(value) if isinstance(value, int | float) else 0.0


def _dated(flt: Filter | None, key: str, value: Range) -> Filter:
    base = flt or Filter()
    return replace(base, ranges={**base.ranges, key: value})


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
    total = index.count(collection, flt)
    if index.count(collection, _dated(flt, sort, EVERY_DATE)) < total:
        return scan(
            index,
            collection,
            flt=flt,
            sort=sort,
            descending=descending,
            limit=limit,
            offset=offset,
            max_scan=max_scan,
        )
    wanted = offset + limit + 1
    hits = index.scroll_ordered(collection, key=sort, descending=descending, flt=flt, limit=wanted)
    if len(hits) == wanted:  # the whole tie at the edge, so the order is (date, id) exactly
        edge = _date(hits[-1], sort)
        hits = [h for h in hits if _date(h, sort) != edge] + _all(
            index, collection, _dated(flt, sort, Range(gte=edge, lte=edge))
        )
    hits.sort(key=lambda h: h.id)
    hits.sort(key=lambda h: _date(h, sort), reverse=descending)
    more = len(hits) > offset + limit
    return BrowsePage(hits[offset : offset + limit], total, False, offset + limit if more else None)


def _all(index: VectorIndex, collection: str, flt: Filter) -> list[Hit]:
    hits: list[Hit] = []
    cursor: str | None = None
    while True:
        page, cursor = index.scroll(collection, flt=flt, limit=1024, offset=cursor)
        hits += page
        if cursor is None:
            return hits


def scan(
    index: VectorIndex,
    collection: str,
    *,
    flt: Filter | None,
    sort: str,
    descending: bool,
    limit: int,
    offset: int,
    max_scan: int = MAX_SCAN,
) -> BrowsePage:
    """The fallback: up to ``max_scan`` payloads read in id order and sorted in memory."""
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
    hits.sort(key=lambda h: h.id)
    hits.sort(key=lambda h: _date(h, sort), reverse=descending)
    chosen = hits[offset : offset + limit]
    more = len(hits) > offset + limit
    return BrowsePage(chosen, len(hits), capped, offset + limit if more else None)
