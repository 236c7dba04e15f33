"""Real photos from GCompris's data (Debian ``gcompris-qt-data``), read from its Qt resources.

GCompris (an educational suite) packs its activities' files into Qt resource bundles
(``/usr/share/gcompris-qt/rcc/*.rcc``). Several hold photographs, each folder with a ``README``
naming author, source and licence (public domain, CC0, CC-BY-SA 4.0, GPL-3): farm and world
animals, fish, tools, household objects, renewable-energy plants and monuments. ``read_rcc``
reads the bundle format (a tree of named nodes over zlib-compressed data; Qt's ``rcc`` format
versions 1-3), nothing is unpacked to disk.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

RCC_DIR = Path("/usr/share/gcompris-qt/rcc")
INSTALL_HINT = "apt-get install -y gcompris-qt-data"
_DIR, _ZLIB, _ZSTD = 0x2, 0x1, 0x4


class RccError(ValueError):
    """Not a Qt resource bundle, or one this reader does not handle."""


def read_rcc(data: bytes) -> Iterator[tuple[str, bytes]]:
    """(path, content) of every file in a Qt resource bundle."""
    if data[:4] != b"qres":
        raise RccError("not a Qt resource bundle (no 'qres' magic)")
    version, tree, payload, names = struct.unpack(">IIII", data[4:20])
    if version not in (1, 2, 3):
        raise RccError(f"Qt resource format version {version} is not handled")
    node_size = 14 if version == 1 else 22

    def name_at(offset: int) -> str:
        at = names + offset
        (length,) = struct.unpack(">H", data[at : at + 2])
        return data[at + 6 : at + 6 + 2 * length].decode("utf-16-be")

    stack = [(0, "")]
    while stack:
        index, prefix = stack.pop()
        at = tree + index * node_size
        name_offset, flags = struct.unpack(">IH", data[at : at + 6])
        path = f"{prefix}/{name_at(name_offset)}" if index else ""
        if flags & _DIR:
            count, first = struct.unpack(">II", data[at + 6 : at + 14])
            stack.extend((child, path) for child in range(first + count - 1, first - 1, -1))
            continue
        (offset,) = struct.unpack(">I", data[at + 10 : at + 14])
        start = payload + offset
        (size,) = struct.unpack(">I", data[start : start + 4])
        blob = data[start + 4 : start + 4 + size]
        if flags & _ZSTD:
            raise RccError(f"{path}: zstd-compressed entries are not handled")
        yield path.lstrip("/"), zlib.decompress(blob[4:]) if flags & _ZLIB else blob


def photos(bundle: str, folder: str, *, rcc_dir: Path = RCC_DIR) -> dict[str, bytes]:
    """``{file stem: image bytes}`` of the ``.webp``/``.jpg`` files under ``folder`` in
    ``<rcc_dir>/<bundle>.rcc``."""
    path = rcc_dir / f"{bundle}.rcc"
    found: dict[str, bytes] = {}
    for name, blob in read_rcc(path.read_bytes()):
        head, _, file = name.rpartition("/")
        if head.endswith(folder) and file.rsplit(".", 1)[-1] in ("webp", "jpg", "jpeg", "png"):
            found[file.rsplit(".", 1)[0]] = blob
    return found
