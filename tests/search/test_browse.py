from __future__ import annotations

import numpy as np

from loupe.search.browse import BrowsePage, browse
from loupe.search.index.base import SEMANTIC, Filter, Point
from loupe.search.index.memory_store import NumpyIndex


def library() -> NumpyIndex:
    index = NumpyIndex()
    index.create_collection("c", model_id="m", dim=2, visual_dim=None)
    vector = np.array([1.0, 0.0], dtype=np.float32)
    dates = {"a": 30.0, "b": 10.0, "c": None, "d": 40.0, "e": 20.0}  # c: no taken_at
    index.upsert(
        "c",
        [
            Point(
                f"00000000-0000-0000-0000-00000000000{n}",
                {SEMANTIC: vector},
                {"name": name, "created_at": 25.0, "tags": ["odd" if n % 2 else "even"]}
                | ({"taken_at": taken} if taken is not None else {}),
            )
            for n, (name, taken) in enumerate(dates.items())
        ],
    )
    return index


def names(page: BrowsePage) -> list[str]:
    return [str(h.payload["name"]) for h in page.hits]


def test_newest_first_with_the_upload_time_as_fallback_and_exact_pages() -> None:
    index = library()
    first = browse(index, "c", flt=None, limit=3)
    assert names(first) == ["d", "a", "c"]  # c falls back to created_at 25
    assert (first.total, first.capped, first.next_offset) == (5, False, 3)
    second = browse(index, "c", flt=None, limit=3, offset=3)
    assert names(second) == ["e", "b"] and second.next_offset is None
    assert names(browse(index, "c", flt=None, descending=False, limit=2)) == ["b", "e"]


def test_a_filter_and_the_scan_cap() -> None:
    index = library()
    even = browse(index, "c", flt=Filter(tags_any=["even"]))
    assert names(even) == ["a", "c", "e"]
    capped = browse(index, "c", flt=None, max_scan=2)
    assert capped.capped and capped.total == 2
