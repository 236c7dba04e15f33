"""``search.index.edge_layout``: names safe as folders; one owner per folder; a collection
exists once its meta is written; a drop never leaves half a folder; a copy keeps the engine's
unwritten blocks as holes and leaves out what it is told to; the alias map round-trips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loupe.search.index.base import CollectionNotFound, IndexUnavailable
from loupe.search.index.edge_layout import EdgeLayout, check_name, copy_sparse
from loupe.search.index.stamp import Stamp

STAMP = Stamp("m", 8, 4, 1.0)


def test_names_must_be_safe_folder_names() -> None:
    assert check_name("bundled-v2_2026.1") == "bundled-v2_2026.1"
    for bad in ("", "../x", "a/b", ".hidden", "x" * 129, "空"):
        with pytest.raises(ValueError, match="invalid collection or alias name"):
            check_name(bad)


def test_one_process_owns_the_folder_at_a_time(tmp_path: Path) -> None:
    first = EdgeLayout(tmp_path)
    with pytest.raises(IndexUnavailable, match=f"pid {os.getpid()}"):
        EdgeLayout(tmp_path)
    first.release()
    EdgeLayout(tmp_path).release()


def test_a_collection_exists_once_its_meta_is_written(tmp_path: Path) -> None:
    layout = EdgeLayout(tmp_path)
    layout.folder("half").mkdir()  # created, never stamped
    layout.folder("c").mkdir()
    layout.write_meta("c", STAMP)
    assert layout.names() == ["c"] and layout.read_meta("c") == STAMP
    with pytest.raises(CollectionNotFound):
        layout.read_meta("half")
    layout.remove("c")
    layout.remove("gone")  # nothing to do
    assert layout.names() == [] and not layout.folder("c").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dropped-")]
    layout.release()


def test_a_copy_leaves_out_what_it_is_told_and_keeps_holes(tmp_path: Path) -> None:
    layout = EdgeLayout(tmp_path / "src")
    folder = layout.folder("c")
    folder.mkdir()
    layout.write_meta("c", STAMP)
    data = b"head" + bytes(8 << 20) + b"tail"  # mostly unwritten, as the engine's mmap files
    (folder / "segment.bin").write_bytes(data)
    (folder / "build.json").write_text("{}")
    layout.write_aliases({"loupe": "c"})
    dest = tmp_path / "dest"
    assert layout.copy_to(dest, skip={"build.json"}) == ["c"]
    copied = dest / "collections" / "c"
    assert (copied / "segment.bin").read_bytes() == data
    assert not (copied / "build.json").exists() and (copied / "meta.json").exists()
    assert (dest / "aliases.json").exists() and layout.read_aliases() == {"loupe": "c"}
    layout.release()


def test_copy_sparse_writes_only_the_blocks_that_hold_data(tmp_path: Path) -> None:
    src, dst = tmp_path / "src.bin", tmp_path / "dst.bin"
    src.write_bytes(bytes(16 << 20) + b"end")
    copy_sparse(str(src), str(dst))
    assert dst.read_bytes() == src.read_bytes()
    assert dst.stat().st_blocks * 512 < (2 << 20)  # the zeros are holes
    src.write_bytes(b"start" + bytes(4 << 20))  # ends in a hole: the size is kept
    copy_sparse(str(src), str(dst))
    assert dst.read_bytes() == src.read_bytes()
