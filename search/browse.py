"""Browse without a query: every item (or those a filter keeps), newest first by date.

The index serves the order: ``VectorIndex.scroll_ordered`` reads the first ``offset + limit + 1``
points by the payload number ``sort`` (``taken_at``, which ingest always writes, falling back to
the upload time, or ``created_at``) through the stores' payload index on it, without payloads;
only the page's payloads are read. A page costs what its position costs, whatever the library's
size. Points tied on the date at the page's edge are all read and ordered by id, so pages are
exact and stable: the order is (date, id).

Points with no number at ``sort`` (written before ``taken_at`` existed, or by hand) cannot be
ordered by the index. ``Dated`` checks whether the collection holds any (a count with and
without a range on ``sort``, remembered until the collection's size changes); if it does,
``browse`` falls back to reading up to ``max_scan`` payloads and sorting them in memory, those
points by ``created_at``, and ``capped`` says when more items matched than were read.
"""

from __future__ import annotations

import threading
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


class Dated:
    """Whether every point of a collection has a number at a sort key, checked with two counts
    and remembered while the collection's point count stays the same."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], int] = {}  # (collection, key) -> points, all dated

    def everywhere(
        self, index: VectorIndex, collection: str, key: str, *, points: int | None = None
    ) -> bool:
        """True when every point has a number at ``key`` (``points``: the collection's point
        count when the caller has it)."""
        points = index.count(collection) if points is None else points
        with self._lock:
            if self._known.get((collection, key)) == points:
                return True
        if index.count(collection, _dated(None, key, EVERY_DATE)) < points:
            return False
        with self._lock:
            self._known[(collection, key)] = points
        return True


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
    dated: Dated | None = None,
) -> BrowsePage:
    """One page of the items ``flt`` keeps, sorted by ``sort`` (see the module docstring);
    ``dated`` remembers the check across calls (a fresh one checks each time)."""
    if sort not in SORT_KEYS:
        raise ValueError(f"sort must be one of {SORT_KEYS}")
    total = index.count(collection, flt)
    points = total if flt is None or flt.is_empty() else None
    if not (dated or Dated()).everywhere(index, collection, sort, points=points):
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
    order = index.scroll_ordered(
        collection, key=sort, descending=descending, flt=flt, limit=wanted, with_payload=False
    )
    ranked = [(h.score, h.id) for h in order]
    if len(order) == wanted:  # the whole tie at the edge, so the order is (date, id) exactly
        edge = order[-1].score
        tie = _all(index, collection, _dated(flt, sort, Range(gte=edge, lte=edge)))
        ranked = [r for r in ranked if r[0] != edge] + [(edge, h.id) for h in tie]
    ranked.sort(key=lambda r: r[1])
    ranked.sort(key=lambda r: r[0], reverse=descending)
    page = [point_id for _, point_id in ranked[offset : offset + limit]]
    hits = index.retrieve(collection, page) if page else []
    more = len(ranked) > offset + limit
    return BrowsePage(hits, total, False, offset + limit if more else None)


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
