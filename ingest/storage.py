"""Storage faults as domain errors, and the disk watermarks that keep writes off a full disk.

``storage_error`` turns a known storage cause (``OSError`` errno, SQLite's "database or disk is
full", the engine's "No space left on device") into ``StorageFull`` (507) or
``StorageUnavailable`` (503) naming the folder relative to the data folder; anything else is
``None``. ``DiskGuard`` is the watermark check (as Elasticsearch's low / flood stage): below
the low watermark the storage state is ``low`` (still serving and writing), below the flood
watermark it is ``full`` and new writes are refused, so the engine's mmap files (grown in 32 MB
chunks) never meet a full disk; a read-only mount is ``read_only``, refused too. ``statvfs``
runs at most once per ``interval_s``.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import NoReturn

from loupe.search.errors import LoupeError, StorageFull, StorageUnavailable

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_DENIED_ERRNOS = {
    errno.EROFS: "is read-only",
    errno.EACCES: "is not writable (permission denied)",
    errno.EPERM: "is not writable (operation not permitted)",
}
_FULL_TEXT = re.compile(r"no space left on device|os error 28|disk is full|quota exceeded", re.I)
_RO_TEXT = re.compile(r"read-only file system|os error 30|readonly database", re.I)
_DENIED_TEXT = re.compile(r"permission denied|os error 13", re.I)


def folder_label(path: str | os.PathLike[str] | None, data_dir: Path | None) -> str:
    """'the folder "blobs"' for a path under the data folder (never an absolute path)."""
    if path is None or data_dir is None:
        return "a storage folder"
    try:
        rel = Path(os.fspath(path)).resolve().relative_to(data_dir.resolve())
    except (ValueError, OSError):
        return "a folder outside the data folder"
    top = rel.parts[0] if rel.parts else "."
    return f'the folder "{top}" of the data folder' if rel.parts else "the data folder"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen and len(seen) < 8:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def storage_error(
    exc: BaseException, *, data_dir: Path | None = None, where: str | None = None
) -> LoupeError | None:
    """The domain error for a known storage cause of ``exc`` (or its causes), else None.

    ``where`` names the store when the exception carries no file name (e.g. "the job database").
    """
    for cause in _chain(exc):
        if isinstance(cause, StorageFull | StorageUnavailable):
            return cause
        if isinstance(cause, OSError) and cause.errno is not None:
            label = where or folder_label(cause.filename, data_dir)
            if cause.errno in _FULL_ERRNOS:
                return StorageFull(f"no space left on the disk of {label}; free some space")
            if cause.errno in _DENIED_ERRNOS:
                return StorageUnavailable(f"{label} {_DENIED_ERRNOS[cause.errno]}")
        if isinstance(cause, OSError | sqlite3.Error | RuntimeError | ValueError):
            text = str(cause)
            label = where or "the storage"
            if _FULL_TEXT.search(text):
                return StorageFull(f"no space left on the disk of {label}; free some space")
            if _RO_TEXT.search(text):
                return StorageUnavailable(f"{label} is read-only")
            if _DENIED_TEXT.search(text):
                return StorageUnavailable(f"{label} is not writable (permission denied)")
    return None


def reraise(
    exc: BaseException, *, data_dir: Path | None = None, where: str | None = None
) -> NoReturn:
    """Raise the domain error of a known storage cause (chained to ``exc``), else ``exc``."""
    known = storage_error(exc, data_dir=data_dir, where=where)
    if known is None or known is exc:
        raise exc
    raise known from exc


class Level(StrEnum):
    OK = "ok"
    LOW = "low"
    FULL = "full"
    READ_ONLY = "read_only"

    @property
    def writable(self) -> bool:
        return self in (Level.OK, Level.LOW)


@dataclass(frozen=True, slots=True)
class Watermark:
    """Free space wanted: a byte count or a percentage of the file system's size."""

    bytes: int | None = None
    percent: float | None = None

    @classmethod
    def parse(cls, text: str) -> Watermark:
        value = text.strip().upper().replace(" ", "")
        if value.endswith("%"):
            return cls(percent=float(value[:-1]))
        units = {"TB": 1 << 40, "GB": 1 << 30, "MB": 1 << 20, "KB": 1 << 10, "B": 1}
        for suffix, factor in units.items():
            if value.endswith(suffix):
                return cls(bytes=int(float(value[: -len(suffix)]) * factor))
        return cls(bytes=int(value))

    def of(self, total: int) -> int:
        if self.percent is not None:
            return int(total * self.percent / 100)
        return int(self.bytes or 0)


@dataclass(frozen=True, slots=True)
class StorageState:
    level: Level
    folder: Path  # the watched folder with the least room
    label: str  # that folder named for clients
    free: int
    need: int  # free space the flood watermark wants there

    def sentence(self) -> str:
        if self.level is Level.READ_ONLY:
            return f"{self.folder} is on a read-only file system; Loupe writes there"
        return (
            f"{self.folder} has {mib(self.free)} free; Loupe needs at least {mib(self.need)} "
            "free there to write safely (LOUPE_DISK_FLOOD_FREE): free some space or move "
            "LOUPE_DATA_DIR"
        )


def mib(size: int) -> str:
    return f"{size / (1 << 20):.0f} MB"


def _rank(state: StorageState) -> tuple[int, int]:
    return list(Level).index(state.level), -state.free


class DiskGuard:
    """Watches the folders that receive writes (data, blobs, embedded index): one per disk."""

    def __init__(
        self,
        folders: Mapping[str, Path],
        *,
        data_dir: Path,
        low: str,
        flood: str,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folders = dict(folders)
        self.data_dir = data_dir
        self.low, self.flood = Watermark.parse(low), Watermark.parse(flood)
        self.interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, StorageState] | None = None

    def _measure(self) -> StorageState:
        worst: StorageState | None = None
        for folder in self.folders.values():
            probe = folder
            while not probe.exists() and probe != probe.parent:
                probe = probe.parent
            st = os.statvfs(probe)
            total, free = st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
            need, low = self.flood.of(total), max(self.low.of(total), self.flood.of(total))
            level = Level.FULL if free < need else Level.LOW if free < low else Level.OK
            if st.f_flag & os.ST_RDONLY:
                level = Level.READ_ONLY
            state = StorageState(level, folder, folder_label(folder, self.data_dir), free, need)
            if worst is None or _rank(state) > _rank(worst):
                worst = state
        assert worst is not None
        return worst

    def state(self, *, fresh: bool = False) -> StorageState:
        """The worst folder's state, measured at most once per ``interval_s`` unless ``fresh``."""
        now = self._clock()
        with self._lock:
            if fresh or self._cached is None or now - self._cached[0] >= self.interval_s:
                self._cached = (now, self._measure())
            return self._cached[1]

    def check_write(self, incoming: int = 0) -> None:
        """StorageFull when writing ``incoming`` more bytes would cross the flood watermark."""
        state = self.state()
        if state.level is Level.READ_ONLY:
            raise StorageUnavailable(f"{state.label} is read-only: new writes are refused")
        if state.level is Level.FULL or state.free - incoming < state.need:
            raise StorageFull(
                f"the disk of {state.label} is full ({mib(state.free)} free, "
                f"{mib(state.need)} kept in reserve): new writes are refused until space frees"
            )
