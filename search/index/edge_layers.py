"""The layers of an embedded collection and the small files that make a build crash-safe.

::

    <collection>/meta.json            the model stamp (edge_layout)
    <collection>/layers.json          {"bases": [...], "tail": ..., "build": {...} | null, ...}
    <collection>/tombstones.log       ids deleted from a build's inputs while it ran (one a line)
    <collection>/build.json           progress of the running build (written by the builder)
    <collection>/<layer>/             one qdrant-edge shard per layer

``bases`` are read-mostly shards (HNSW built by a child process); ``tail`` is the one shard that
takes new points and is searched exactly. A point lives in exactly one layer. ``layers.json`` is
replaced atomically and is the commit point of every step:

1. *freeze*: the tail joins the bases, a new empty tail takes writes, ``build`` names the
   target folder and its inputs (every base). From then on the inputs are read only: a delete
   or overwrite of a point in them is a tombstone (``tombstones.log``, fsynced, and excluded
   from their searches) instead of a write.
2. *build* (a child process, ``edge_build``): copies the inputs, merges them into the target
   shard and optimizes it. The serving process never optimizes.
3. *swap*: the target is opened, the tombstones are deleted from it, and ``layers.json`` names
   it as the only base (commit); the inputs and the tombstones are then removed.

Recovery (``recover``) on open: a build named in ``layers.json`` did not finish (its builder
died with the server): the tombstones are applied to its inputs as real deletes, the target
folder is dropped and ``build`` cleared. Folders that ``layers.json`` does not name are left
overs of a step that did not commit, and are removed. A collection written before layers
(``shard/`` only) opens as one base named ``shard``.
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
    """Ids deleted from a running build's inputs, in memory and in an fsynced log."""

    path: Path
    ids: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, folder: Path) -> Tombstones:
        path = folder / TOMBSTONES
        ids: set[str] = set()
        with contextlib.suppress(FileNotFoundError):
            ids = {line.strip() for line in path.read_text().splitlines() if line.strip()}
        return cls(path, ids)

    def add(self, ids: list[str]) -> None:
        fresh = [i for i in ids if i not in self.ids]
        if not fresh:
            return
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write("".join(f"{i}\n" for i in fresh))
            fh.flush()
            os.fsync(fh.fileno())
        self.ids.update(fresh)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
        self.ids.clear()


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
