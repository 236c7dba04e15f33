"""``loupe.bench.report.disk_bytes``: what the serve and index benchmarks call disk per point."""

from __future__ import annotations

from pathlib import Path

from loupe.bench.report import disk_bytes


def test_disk_bytes_sums_files_and_skips_those_gone_mid_walk(tmp_path: Path) -> None:
    (tmp_path / "seg" / "deep").mkdir(parents=True)
    (tmp_path / "a.bin").write_bytes(b"x" * 100)
    (tmp_path / "seg" / "deep" / "b.bin").write_bytes(b"y" * 23)
    # A link to nothing stats like a file that a build removed between listing and stat.
    (tmp_path / "seg" / "gone").symlink_to(tmp_path / "removed-by-a-build")
    assert disk_bytes(tmp_path) == 123
    assert disk_bytes(tmp_path / "no-such-folder") == 0
