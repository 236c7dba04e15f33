"""GCompris's Qt resource bundles: read_rcc walks folders and inflates, refuses other files."""

from __future__ import annotations

import struct
import zlib

import pytest

from loupe.bench.evaluation.gcompris import RccError, read_rcc


def _bundle(files: dict[str, bytes], *, compress: bool) -> bytes:
    """A version-2 Qt resource bundle with one folder ``d`` holding ``files``."""
    names = b""
    name_offsets = {}
    for name in ["d", *files]:
        name_offsets[name] = len(names)
        encoded = name.encode("utf-16-be")
        names += struct.pack(">HI", len(name), 0) + encoded
    payload = b""
    data_offsets = {}
    for name, blob in files.items():
        data_offsets[name] = len(payload)
        stored = struct.pack(">I", len(blob)) + zlib.compress(blob) if compress else blob
        payload += struct.pack(">I", len(stored)) + stored
    flags = 0x1 if compress else 0x0
    nodes = struct.pack(">IHII", 0, 0x2, 1, 1) + bytes(8)  # root: one child at 1
    nodes += struct.pack(">IHII", name_offsets["d"], 0x2, len(files), 2) + bytes(8)
    for name in files:
        nodes += struct.pack(">IHHHI", name_offsets[name], flags, 0, 0, data_offsets[name])
        nodes += bytes(8)
    header_size = 20
    tree = header_size
    data_at = tree + len(nodes)
    names_at = data_at + len(payload)
    header = b"qres" + struct.pack(">IIII", 2, tree, data_at, names_at)
    return header + nodes + payload + names


@pytest.mark.parametrize("compress", [True, False])
def test_read_rcc_walks_folders_and_inflates(compress: bool) -> None:
    files = {"a.webp": b"first" * 50, "b.txt": b"second"}
    found = dict(read_rcc(_bundle(files, compress=compress)))
    assert found == {"d/a.webp": files["a.webp"], "d/b.txt": files["b.txt"]}


def test_read_rcc_refuses_other_files() -> None:
    with pytest.raises(RccError, match="qres"):
        list(read_rcc(b"PK\x03\x04 not a bundle"))
