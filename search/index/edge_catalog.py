"""The collections and aliases of an ``EdgeIndex``: which collections are open (each opened on
first use), creating and dropping their folders, and the alias map kept in ``aliases.json``
(see ``edge_layout``). Not locked itself: ``EdgeIndex`` calls it under its lock.
"""

from __future__ import annotations

from pathlib import Path

from loupe.search.index.base import CollectionInfo, CollectionNotFound
from loupe.search.index.edge_collection import EdgeCollection
from loupe.search.index.edge_layout import EdgeLayout, check_name
from loupe.search.index.stamp import Stamp, check_stamp


class EdgeCatalog:
    """The store in the folder ``root`` (its owner lock taken here, released by ``close()``);
    collections open with ``build_after`` and ``build_nice`` for their builds, and ``pin_mb``
    for their bases' hosts."""

    def __init__(self, root: str | Path, *, build_after: int, build_nice: int, pin_mb: int) -> None:
        self.layout = EdgeLayout(root)
        self.open: dict[str, EdgeCollection] = {}
        self._closed = False
        self._aliases = self.layout.read_aliases()
        self._build_after = build_after
        self._build_nice = build_nice
        self._pin_mb = pin_mb

    def get(self, name: str) -> tuple[str, EdgeCollection]:
        """The open collection of a name or alias, opened now if it is not."""
        if self._closed:
            raise RuntimeError("EdgeIndex is closed")
        target = self._aliases.get(name, name)
        if target not in self.open:
            stamp = self.layout.read_meta(check_name(target))
            self.open[target] = EdgeCollection(
                self.layout.folder(target),
                stamp,
                build_after=self._build_after,
                nice=self._build_nice,
                pin_mb=self._pin_mb,
            )
        return target, self.open[target]

    def _exists(self, name: str) -> bool:
        return (self.layout.folder(name) / "meta.json").exists()

    def create(self, name: str, wanted: Stamp) -> None:
        """Create ``name`` stamped ``wanted``; if it exists, ModelMismatch unless its stamp
        agrees. ValueError if ``name`` is an alias."""
        if name in self._aliases:
            raise ValueError(f"{name!r} is an alias")
        if self._exists(name):
            check_stamp(name, self.layout.read_meta(name), wanted, visual=True)
            return
        self.layout.remove(name)  # an incomplete folder from a crash
        folder = self.layout.folder(name)
        folder.mkdir(parents=True)
        EdgeCollection.create(folder, wanted)
        self.layout.write_meta(name, wanted)

    def info(self, name: str) -> CollectionInfo:
        target, opened = self.get(name)
        stamp = opened.stamp
        return CollectionInfo(
            name=target,
            model_id=stamp.model_id,
            dim=stamp.dim,
            visual_dim=stamp.visual_dim,
            points=opened.count(None),
            created_at=stamp.created_at,
            aliases=sorted(a for a, c in self._aliases.items() if c == target),
        )

    def names(self) -> list[str]:
        return self.layout.names()

    def drop(self, name: str) -> None:
        """Close and remove the collection ``name`` and the aliases pointing at it."""
        if name in self._aliases or not self._exists(name):
            raise CollectionNotFound(f"no collection named {name!r}")
        opened = self.open.pop(name, None)
        if opened is not None:
            opened.close()
        remaining = {a: c for a, c in self._aliases.items() if c != name}
        if remaining != self._aliases:
            self.layout.write_aliases(remaining)
            self._aliases = remaining
        self.layout.remove(name)

    def set_alias(self, alias: str, collection: str) -> None:
        check_name(alias)
        if self._exists(alias):
            raise ValueError(f"{alias!r} is a collection, it cannot be an alias")
        if collection in self._aliases:
            raise ValueError(f"{collection!r} is an alias; point aliases at collections")
        self.layout.read_meta(collection)  # CollectionNotFound
        aliases = {**self._aliases, alias: collection}
        self.layout.write_aliases(aliases)
        self._aliases = aliases

    def resolve_alias(self, alias: str) -> str | None:
        return self._aliases.get(alias)

    def delete_alias(self, alias: str) -> None:
        if alias in self._aliases:
            aliases = {k: v for k, v in self._aliases.items() if k != alias}
            self.layout.write_aliases(aliases)
            self._aliases = aliases

    def close(self) -> None:
        """Close every open collection and release the store's owner lock."""
        for opened in self.open.values():
            opened.close()
        self.open.clear()
        if not self._closed:
            self._closed = True
            self.layout.release()
