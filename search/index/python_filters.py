"""``Filter`` evaluated in Python over a payload, with Qdrant's matching rules.

A payload key may be dotted (``metadata.camera``); a list value matches ``equals``/``any_of``
when any element matches; booleans never equal integers; ``ranges`` need a numeric
(non-boolean) value; a missing key never matches; ``tags_any`` needs a ``tags`` list sharing a
tag; ``ids_not`` excludes point ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loupe.search.index.base import Filter

_MISSING = object()


def _lookup(payload: dict[str, Any], key: str) -> Any:
    value: Any = payload
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _same(got: Any, want: Any) -> bool:
    if isinstance(got, bool) != isinstance(want, bool):
        return False
    return bool(got == want)


def _matches_value(got: Any, wanted: Sequence[Any]) -> bool:
    values = got if isinstance(got, list) else [got]
    return any(_same(v, w) for v in values for w in wanted)


def matches(point_id: str, payload: dict[str, Any], flt: Filter | None) -> bool:
    """Whether a point passes ``flt`` (None or an empty filter pass everything)."""
    if flt is None:
        return True
    if point_id in flt.ids_not:
        return False
    for key, want in flt.equals.items():
        got = _lookup(payload, key)
        if got is _MISSING or not _matches_value(got, [want]):
            return False
    for key, wanted in flt.any_of.items():
        got = _lookup(payload, key)
        if got is _MISSING or not _matches_value(got, wanted):
            return False
    for key, wanted in flt.all_of.items():
        got = _lookup(payload, key)
        if wanted and (got is _MISSING or not all(_matches_value(got, [w]) for w in wanted)):
            return False
    for key, rng in flt.ranges.items():
        got = _lookup(payload, key)
        if isinstance(got, bool) or not isinstance(got, int | float):
            return False
        if (rng.gte is not None and got < rng.gte) or (rng.lte is not None and got > rng.lte):
            return False
    if flt.tags_any:
        tags = payload.get("tags")
        if not isinstance(tags, list) or not set(flt.tags_any).intersection(tags):
            return False
    return True
