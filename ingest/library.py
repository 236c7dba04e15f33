"""Photo management: change the tags and metadata of stored items, tag many at once.

An item lives as one point per collection (the live one, a reindex target, older ones kept for
rollback); a change is written to every collection that holds it, so a rollback or a finished
reindex keeps it. A change reads each point with its vectors and writes it back with the new
payload (the index has no payload-only update on every adapter).

``tenant`` scopes every call: an item of another tenant does not exist for the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loupe.ingest.tenancy import owns_item
from loupe.search.errors import InvalidInput, NotFound
from loupe.search.index import Hit, Point, VectorIndex

MAX_TAGS = 100


@dataclass(frozen=True, slots=True)
class Change:
    """``tags`` replaces the tag list when given; ``add_tags`` and ``remove_tags`` edit it;
    ``metadata`` is merged key by key, a None value removing the key."""

    tags: Sequence[str] | None = None
    add_tags: Sequence[str] = ()
    remove_tags: Sequence[str] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return (
            self.tags is None and not self.add_tags and not self.remove_tags and not self.metadata
        )

    def apply(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The payload with this change made (a new dict)."""
        tags = list(self.tags) if self.tags is not None else list(payload.get("tags") or [])
        tags = [t for t in dict.fromkeys([*tags, *self.add_tags]) if t not in self.remove_tags]
        if len(tags) > MAX_TAGS:
            raise InvalidInput(f"an item has at most {MAX_TAGS} tags")
        metadata = dict(payload.get("metadata") or {})
        for key, value in self.metadata.items():
            if value is None:
                metadata.pop(key, None)
            else:
                metadata[key] = value
        return {**payload, "tags": tags, "metadata": metadata}


def change_items(
    index: VectorIndex, ids: Sequence[str], change: Change, *, tenant: str | None, live: str
) -> tuple[list[Hit], list[str]]:
    """Make ``change`` to the items ``ids`` in every collection: (the changed items as the live
    collection now holds them, the ids not found in it)."""
    wanted = list(dict.fromkeys(ids))
    found = {h.id: h for h in index.retrieve(live, wanted) if owns_item(h, tenant)}
    missing = [i for i in wanted if i not in found]
    if change.is_empty() or not found:
        return [found[i] for i in wanted if i in found], missing
    for info in index.list_collections():
        points = [
            Point(hit.id, dict(hit.vectors), change.apply(hit.payload))
            for hit in index.retrieve(info.name, list(found), with_vectors=True)
            if hit.vectors and owns_item(hit, tenant)
        ]
        if points:
            index.upsert(info.name, points)
    changed = index.retrieve(live, [i for i in wanted if i in found])
    return changed, missing


def change_item(
    index: VectorIndex, item_id: str, change: Change, *, tenant: str | None, live: str
) -> Hit:
    """``change_items`` for one item; NotFound when the caller has no such item."""
    changed, _ = change_items(index, [item_id], change, tenant=tenant, live=live)
    if not changed:
        raise NotFound("no item with that id")
    return changed[0]
