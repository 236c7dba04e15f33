"""Keeping the pages a text search reads of a base in RAM (``mlock``), in its host process.

Why (profiled on ``loupe bench serve`` at 100k, 2 cores, 1 Dec 2026): the slow searches during
ingestion (p99 150-180 ms, max 575-740 ms) spent their time waiting on the base's host, which was
taking 190-2,500 major page faults per search. The kernel had paged out parts of the base's
memory-mapped files: the float originals a search rescores its candidates with, the ``visual``
originals its candidates are folded by (near-duplicate photos, ``dedupe``), the payloads of its
hits, the graph. Nothing was short of memory: this machine's kernel runs DAMON's proactive
reclaim (``pageout`` of regions it samples as unused for 60 s), and a search reads a few random
pages of each file, which its sampling takes for cold. On a laptop the same happens under any
memory pressure. Directly, on the 100k base with its pages dropped: 40-65 faults and 8-10 ms a
search; with them resident, none and 3.7 ms.

qdrant-edge can pin only the int8 copies and the graph on its heap (``Memory.Pinned``); originals
and payloads are always memory-mapped. So the host maps the files a text search reads (all but
the ``visual`` graph and int8 copy, which only image-to-image searches walk, and the semantic int8
copy, already on qdrant-edge's heap) and locks their data extents (not the holes of qdrant-edge's
preallocated files), most read first, while they fit in ``budget_mb``: the same pages qdrant-edge
maps, so they are counted once. Locked pages cannot be paged out; they are let go when the host
closes the base. Where the system refuses (``RLIMIT_MEMLOCK``, ``ulimit -l``; a process with
``CAP_IPC_LOCK``, as root has, is exempt) ``pin`` stops there and says why; the rest of the base
is served as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path

from loupe.search.index.file_extents import data_extents

PAGE = mmap.PAGESIZE
# Not read by a text search: the image graph (image-to-image searches walk it)...
IMAGE_ONLY = ("vector_index-visual",)
# ... and the int8 copies: the image one is walked with that graph, the semantic one is read onto
# qdrant-edge's heap at load (``edge_shards``: ``Memory.Pinned``).
SKIPPED_NAMES = frozenset({"quantized.data"})
# Most read first (per search): where a point's id lives, the graph walked, the payload indexes
# filters use, the payloads of the hits, the concept vectors, then the largest: the semantic float
# originals the best candidates are rescored with (2 KB a point with the 512-d text tower) and the
# visual ones the candidates are folded by (float16, 2.5 KB a point).
ORDER = (
    "id_tracker",
    "vector_index-semantic",
    "payload_index",
    "payload_storage",
    "concepts",
    "vector_storage-semantic",
    "vector_storage-visual",
)
ORIGINALS = ORDER.index("vector_storage-semantic")

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_long,
]
_libc.mlock.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
MAP_FAILED = ctypes.c_void_p(-1).value


@dataclass
class Pinned:
    """What ``pin`` locked: ``bytes`` in ``files`` files; ``refused``: why it stopped early
    (the OS refused a lock), else None."""

    bytes: int = 0
    files: int = 0
    refused: str | None = None
    _maps: list[tuple[int, int]] = field(default_factory=list)

    def release(self) -> None:
        """Unlock and unmap everything (also done by the host's exit)."""
        for address, length in self._maps:
            _libc.munmap(address, length)
        self._maps.clear()
        self.bytes = self.files = 0


def hot_files(base: Path) -> list[Path]:
    """The files of ``base`` a text search reads, most read first."""
    found = [
        p
        for p in base.rglob("*")
        if p.is_file() and p.name not in SKIPPED_NAMES and not any(k in str(p) for k in IMAGE_ONLY)
    ]

    def rank(path: Path) -> tuple[float, str]:
        text = str(path.relative_to(base))
        # the small files of no listed part (a segment's config, version) before the originals
        where = next((i for i, key in enumerate(ORDER) if key in text), ORIGINALS - 0.5)
        return where, text

    return sorted(found, key=rank)


def extents(fd: int, size: int) -> list[tuple[int, int]]:
    """The data extents of an open file of ``size`` bytes (``file_extents``), widened to whole
    pages: ``(start, end)``; the whole file where the file system cannot tell holes from data."""
    parts = data_extents(fd, size)
    if parts is None:
        parts = [(0, size)] if size else []
    return [(start // PAGE * PAGE, -(-end // PAGE) * PAGE) for start, end in parts]


def pin(base: Path, budget_mb: int) -> Pinned:
    """Lock the data of ``hot_files(base)`` in RAM, in that order, each file whole or not at
    all, up to ``budget_mb`` in all (0: nothing)."""
    pinned = Pinned()
    left = budget_mb * 2**20
    for path in hot_files(base) if budget_mb > 0 else []:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            size = os.fstat(fd).st_size
            parts = extents(fd, size)
            need = sum(end - start for start, end in parts)
            if not need or need > left:
                continue
            address = _libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
            if address in (None, MAP_FAILED):
                continue
            pinned._maps.append((address, size))
            for start, end in parts:
                if _libc.mlock(address + start, end - start) != 0:
                    pinned.refused = os.strerror(ctypes.get_errno())
                    return pinned
            pinned.bytes += need
            pinned.files += 1
            left -= need
        finally:
            os.close(fd)
    return pinned
