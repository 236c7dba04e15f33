"""The layers of an embedded collection and the small files that make a build crash-safe.

::

    <collection>/meta.json            the model stamp (edge_layout)
    <collection>/layers.json          {"bases": [...], "tail": ..., "build": {...} | null, ...}
    <collection>/tombstones.log       ids deleted from bases: "<base> <id>", one a line, fsynced
    <collection>/build.json           progress of the running build (written by the builder)
    <collection>/<layer>/             one qdrant-edge shard per layer

``bases`` are shards that only a builder (a child process, ``edge_build``) writes: HNSW built,
flushed, no WAL. ``tail`` is the one shard that takes new points and is searched exactly. A
point lives in exactly one layer. The serving process never writes a base: a write there would
need a flush, and qdrant-edge's flush (like its load and optimize) holds the GIL for as long as
the base is large, freezing every request. A delete or overwrite of a point in a base is a
tombstone instead (``tombstones.log``), left out of that base's searches by id until a build
applies it. ``layers.json`` is replaced atomically and is the commit point of every step:

1. *freeze*: the tail joins the bases, a new empty tail takes writes, ``build`` names the
   target folder and its inputs (every base). The builder is given the inputs' tombstones.
2. *build* (``edge_build``): copies the inputs, merges them into the target shard leaving the
   tombstoned points out, optimizes it and flushes it. The serving process never optimizes.
3. *swap*: the target is opened; tombstones written during the build (not applied by it) are
   logged again under the target's name; ``layers.json`` names the target as the only base
   (commit); the inputs and their tombstones are then removed.

Recovery (``recover``) on open: a build named in ``layers.json`` did not finish (its builder
died with the server): ``build`` is cleared and the target folder dropped; its inputs stay
bases, with their tombstones. Folders that ``layers.json`` does not name are left overs of a
step that did not commit, and are removed; so are tombstones of layers that are gone. A
collection written before layers (``shard/`` only) opens as one base named ``shard``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from loupe.search.index.edge_layout import write_json_atomic

LAYERS = "layers.json"
TOMBSTONES = "tombstones.log"
PROGRESS = "build.json"
LEGACY_SHARD = "shard"
_KEEP = {"meta.json", LAYERS, TOMBSTONES, PROGRESS}
ANY_LAYER = "*"


@dataclass(frozen=True, slots=True)
class Build:
    target: str
    inputs: tuple[str, ...]
    started_at: float

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "inputs": list(self.inputs), "started_at": self.started_at}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Build:
        return cls(str(raw["target"]), tuple(raw["inputs"]), float(raw.get("started_at", 0.0)))


@dataclass(frozen=True, slots=True)
class Layers:
    bases: tuple[str, ...]
    tail: str
    build: Build | None = None
    seq: int = 0
    last_build_s: float | None = None
    last_build_at: float | None = None

    def names(self) -> list[str]:
        return [*self.bases, self.tail]

    def frozen(self) -> frozenset[str]:
        """The layers a running build reads: written to only through tombstones."""
        return frozenset(self.build.inputs) if self.build else frozenset()

    def next_name(self, kind: str) -> tuple[Layers, str]:
        return replace(self, seq=self.seq + 1), f"{kind}-{self.seq + 1:06d}"

    def to_json(self) -> dict[str, Any]:
        return {
            "bases": list(self.bases),
            "tail": self.tail,
            "build": self.build.to_json() if self.build else None,
            "seq": self.seq,
            "last_build_s": self.last_build_s,
            "last_build_at": self.last_build_at,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Layers:
        build = raw.get("build")
        return cls(
            bases=tuple(raw["bases"]),
            tail=str(raw["tail"]),
            build=Build.from_json(build) if build else None,
            seq=int(raw.get("seq", 0)),
            last_build_s=raw.get("last_build_s"),
            last_build_at=raw.get("last_build_at"),
        )


def read_layers(folder: Path) -> Layers | None:
    """The committed layers, or None for a collection that has none yet (new or legacy)."""
    try:
        return Layers.from_json(json.loads((folder / LAYERS).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None


def write_layers(folder: Path, layers: Layers) -> None:
    write_json_atomic(folder / LAYERS, layers.to_json())


@dataclass(slots=True)
class Tombstones:
    """Ids deleted from bases, by base: bases are never written by the serving process (a
    write there would need a flush, which holds the GIL for as long as the base is large), so
    a delete or overwrite of a point in a base is a line ``<base> <id>`` in an fsynced log, and
    the base's searches leave those ids out. The next build applies them. A line with no layer
    (written before tombstones had layers, during a build) names every base on open."""

    path: Path
    by_layer: dict[str, set[str]] = field(default_factory=dict)
    # ``of(layer)`` in id order, read on every query; dropped whenever the layer's ids change.
    _sorted: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def load(cls, folder: Path) -> Tombstones:
        path = folder / TOMBSTONES
        by_layer: dict[str, set[str]] = {}
        with contextlib.suppress(FileNotFoundError):
            for line in path.read_text(encoding="utf-8").splitlines():
                parts = line.split()
                if len(parts) == 2:
                    by_layer.setdefault(parts[0], set()).add(parts[1])
                elif len(parts) == 1:
                    by_layer.setdefault(ANY_LAYER, set()).add(parts[0])
        return cls(path, by_layer)

    def of(self, layer: str) -> set[str]:
        """The ids left out of ``layer``'s searches."""
        return self.by_layer.get(layer, set())

    def sorted_of(self, layer: str) -> tuple[str, ...]:
        """``of(layer)`` in id order (sorted once per change, not per query)."""
        ids = self._sorted.get(layer)
        if ids is None:
            ids = self._sorted[layer] = tuple(sorted(self.of(layer)))
        return ids

    def count(self) -> int:
        return sum(len(ids) for ids in self.by_layer.values())

    def add(self, layer: str, ids: list[str]) -> None:
        known = self.by_layer.get(layer, set())
        fresh = [i for i in dict.fromkeys(ids) if i not in known]
        if not fresh:
            return
        self._append([(layer, i) for i in fresh])
        self.by_layer.setdefault(layer, set()).update(fresh)
        self._sorted.pop(layer, None)

    def _append(self, entries: list[tuple[str, str]]) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write("".join(f"{layer} {i}\n" for layer, i in entries))
            fh.flush()
            os.fsync(fh.fileno())

    def carry(self, merged: dict[str, set[str]], target: str) -> None:
        """Before a swap commits: the tombstones of ``merged``'s layers that their build did not
        apply (``merged[layer]`` is what it applied) now also name ``target`` (harmless until
        the commit: a layer name is never reused)."""
        moved = {i for layer, applied in merged.items() for i in self.of(layer) - applied}
        self._append([(target, i) for i in sorted(moved)])
        if moved:
            self.by_layer.setdefault(target, set()).update(moved)
            self._sorted.pop(target, None)

    def keep_only(self, layers: list[str]) -> None:
        """Forget the tombstones of layers that are gone (after a swap commits, or on open);
        lines with no layer now name each of ``layers``."""
        legacy = self.by_layer.pop(ANY_LAYER, set())
        for layer in layers if legacy else ():
            self.by_layer.setdefault(layer, set()).update(legacy)
        self.by_layer = {k: v for k, v in self.by_layer.items() if k in layers and v}
        self._sorted.clear()
        text = "".join(f"{k} {i}\n" for k, ids in self.by_layer.items() for i in sorted(ids))
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


def remove_strays(folder: Path, layers: Layers) -> None:
    """Delete folders and files of steps that never committed (see the module docstring)."""
    keep = set(layers.names()) | _KEEP
    if layers.build is not None:
        keep.add(layers.build.target)
    for child in folder.iterdir():
        if child.name in keep:
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        elif child.name.startswith("."):
            child.unlink(missing_ok=True)


def read_progress(folder: Path) -> dict[str, Any] | None:
    try:
        raw = json.loads((folder / PROGRESS).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None
