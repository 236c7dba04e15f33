"""``search.index.python_filters.matches``: a ``Filter`` over one payload with Qdrant's rules
(the in-memory index uses it; ``test_index`` checks the same answers against Qdrant)."""

from __future__ import annotations

from typing import Any

from loupe.search.index.base import Filter, Range
from loupe.search.index.python_filters import matches

PAYLOAD: dict[str, Any] = {
    "tags": ["cat", "pet"],
    "width": 640,
    "flag": True,
    "metadata": {"camera": "nikon", "iso": 200},
    "enrich": {"objects": ["dog", "person"]},
    "label": "1",
}


def _ok(flt: Filter | None, payload: dict[str, Any] = PAYLOAD, item: str = "p1") -> bool:
    return matches(item, payload, flt)


def test_no_filter_or_an_empty_one_passes_everything() -> None:
    assert _ok(None) and _ok(Filter()) and _ok(Filter(), {})


def test_equals_follows_dotted_keys_and_list_elements() -> None:
    assert _ok(Filter(equals={"metadata.camera": "nikon", "width": 640}))
    assert not _ok(Filter(equals={"metadata.camera": "canon"}))
    assert _ok(Filter(equals={"enrich.objects": "dog"}))  # any element of a list
    assert not _ok(Filter(equals={"metadata.lens": "50"}))  # a missing key never matches
    assert not _ok(Filter(equals={"width.px": 640}))  # nor a key below a number
    assert not _ok(Filter(equals={"label": 1}))  # "1" is not 1


def test_booleans_never_equal_integers() -> None:
    assert _ok(Filter(equals={"flag": True}))
    assert not _ok(Filter(equals={"flag": 1}))
    assert not _ok(Filter(equals={"count": True}), {"count": 1})


def test_any_of_needs_one_value_and_all_of_needs_every_value() -> None:
    assert _ok(Filter(any_of={"metadata.camera": ["canon", "nikon"]}))
    assert not _ok(Filter(any_of={"metadata.camera": ["canon", "sony"]}))
    assert _ok(Filter(all_of={"enrich.objects": ["dog", "person"]}))
    assert not _ok(Filter(all_of={"enrich.objects": ["dog", "cat"]}))
    assert _ok(Filter(all_of={"enrich.missing": []}))  # an empty list asks for nothing
    assert not _ok(Filter(all_of={"enrich.missing": ["dog"]}))


def test_ranges_are_inclusive_and_need_a_number() -> None:
    assert _ok(Filter(ranges={"width": Range(gte=640, lte=640)}))
    assert _ok(Filter(ranges={"metadata.iso": Range(lte=200)}))
    assert not _ok(Filter(ranges={"width": Range(gte=641)}))
    assert not _ok(Filter(ranges={"width": Range(lte=639)}))
    assert not _ok(Filter(ranges={"flag": Range(gte=0)}))  # a boolean is no number
    assert not _ok(Filter(ranges={"label": Range(gte=0)}))
    assert not _ok(Filter(ranges={"height": Range(gte=0)}))


def test_tags_any_and_ids_not() -> None:
    assert _ok(Filter(tags_any=["dog", "pet"]))
    assert not _ok(Filter(tags_any=["dog"]))
    assert not _ok(Filter(tags_any=["c"]), {"tags": "cat"})  # a string is no list of letters
    assert not _ok(Filter(ids_not=["p1"]))
    assert _ok(Filter(ids_not=["p2"]))


def test_every_condition_must_hold() -> None:
    both = Filter(equals={"metadata.camera": "nikon"}, tags_any=["dog"])
    assert not _ok(both)
    assert _ok(Filter(equals={"metadata.camera": "nikon"}, tags_any=["cat"]))
