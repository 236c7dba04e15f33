"""The folder of the embedded store: its owner lock, collection folders, meta and aliases files.

::

    <root>/.lock                       flock held by the one owning process
    <root>/aliases.json                {"alias": "collection"}, replaced atomically
    <root>/collections/<name>/meta.json  the model stamp, written last (no meta = incomplete),
                                       with the aliases it holds (see ``edge_aliases``)
    <root>/collections/<name>/...      its layers: qdrant-edge shards (see edge_layers)
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import IO, Any

from loupe.search.index.base import CollectionNotFound, IndexUnavailable
from loupe.search.index.edge_aliases import CLAIMS, AliasFile, read_claims
from loupe.search.index.stamp import Stamp

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def check_name(name: str) -> str:
    """A collection or alias name safe as a folder name; ValueError otherwise."""
    if not _NAME.match(name):
        raise ValueError(f"invalid collection or alias name {name!r}: use letters, digits, _.-")
    return name


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` to a temporary file, fsync it, then ``os.replace`` it onto ``path``."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def copy_sparse(src: str, dst: str) -> str:
    """Copy a file leaving its zero blocks as holes: the engine's mmap files are mostly
    unwritten (32 MB chunks), and a plain copy would write every zero."""
    block = 1 << 20
    zero = bytes(block)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(block):
            if chunk == zero[: len(chunk)]:
                fout.seek(len(chunk), os.SEEK_CUR)
            else:
                fout.write(chunk)
        fout.truncate()
        fout.flush()
        os.fsync(fout.fileno())
    shutil.copystat(src, dst)
    return dst


class EdgeLayout:
    """Owns ``root`` for this process (an exclusive, non-blocking flock) and its small files."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.collections_dir = self.root / "collections"
        self.collections_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file: IO[str] | None = self._acquire()
        self._alias_file = AliasFile(self.root, self.collections_dir, write_json_atomic)

    def _acquire(self) -> IO[str]:
        fh = (self.root / ".lock").open("a+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            owner = fh.read().strip() or "unknown"
            fh.close()
            raise IndexUnavailable(
                f"another process (pid {owner}) owns the embedded index at {self.root}: "
                "one process at a time may open it; stop it or set LOUPE_QDRANT_URL "
                "to share a Qdrant server"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        return fh

    def release(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    # -- collections -----------------------------------------------------------------------

    def folder(self, name: str) -> Path:
        return self.collections_dir / check_name(name)

    def read_meta(self, name: str) -> Stamp:
        meta = self.folder(name) / "meta.json"
        try:
            raw = json.loads(meta.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CollectionNotFound(f"no collection named {name!r}") from None
        return Stamp.from_json(raw)

    def write_meta(self, name: str, stamp: Stamp) -> None:
        meta = self.folder(name) / "meta.json"
        claims = read_claims(meta)
        write_json_atomic(meta, {**stamp.to_json(), CLAIMS: claims})

    def names(self) -> list[str]:
        """Complete collections (those with a meta.json), sorted."""
        return sorted(p.parent.name for p in self.collections_dir.glob("*/meta.json"))

    def remove(self, name: str) -> None:
        """Move the folder out of the way first, so a crash never leaves half a collection."""
        folder = self.folder(name)
        if not folder.exists():
            return
        trash = self.root / f".dropped-{name}-{uuid.uuid4().hex}"
        os.replace(folder, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def copy_to(self, dest: Path, *, skip: set[str] | None = None) -> list[str]:
        """Copy the alias map and every complete collection into ``dest`` (an empty folder),
        leaving out entries named in ``skip``; the caller keeps writers out meanwhile. Returns
        the collections copied."""
        names = self.names()
        (dest / "collections").mkdir(parents=True, exist_ok=True)
        left_out = skip or set()
        for name in names:
            shutil.copytree(
                self.folder(name),
                dest / "collections" / name,
                copy_function=copy_sparse,
                ignore=lambda _dir, entries: [e for e in entries if e in left_out],
            )
        aliases = self.root / "aliases.json"
        if aliases.exists():
            shutil.copy2(aliases, dest / "aliases.json")
        return names

    # -- aliases ---------------------------------------------------------------------------

    def read_aliases(self) -> dict[str, str]:
        """The alias map, rebuilt from the stamps' claims if the file is lost or damaged."""
        return self._alias_file.read()

    def write_aliases(self, aliases: dict[str, str]) -> None:
        self._alias_file.write(aliases)
