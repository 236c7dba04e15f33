"""``loupe.bench.report.disk_bytes``: what the serve and index benchmarks call disk per point."""

from __future__ import annotations

import os
from pathlib import Path

from loupe.bench.report import disk_bytes


def test_disk_bytes_counts_blocks_in_use_and_skips_files_gone_mid_walk(tmp_path: Path) -> None:
    (tmp_path / "seg" / "deep").mkdir(parents=True)
    (tmp_path / "a.bin").write_bytes(os.urandom(64 * 1024))
    (tmp_path / "seg" / "deep" / "b.bin").write_bytes(os.urandom(32 * 1024))
    with (tmp_path / "seg" / "sparse.bin").open("wb") as fh:  # preallocated, as the index does
        fh.truncate(64 * 2**20)
    # A link to nothing stats like a file that a build removed between listing and stat.
    (tmp_path / "seg" / "gone").symlink_to(tmp_path / "removed-by-a-build")
    used = disk_bytes(tmp_path)
    assert 96 * 1024 <= used < 1 * 2**20  # the 64 MiB hole takes (almost) nothing
    assert disk_bytes(tmp_path / "no-such-folder") == 0


def test_disk_bytes_counts_a_file_linked_twice_once(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "copy").mkdir()
    (tmp_path / "base" / "matrix.dat").write_bytes(os.urandom(256 * 1024))
    alone = disk_bytes(tmp_path)
    os.link(tmp_path / "base" / "matrix.dat", tmp_path / "copy" / "matrix.dat")
    assert disk_bytes(tmp_path) == alone  # one file on disk, under two names
    assert disk_bytes(tmp_path / "copy") == alone  # each folder alone still holds it
