"""``loupe fsck``, ``loupe backup`` and ``loupe restore`` on data folders no server holds."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from loupe.api.cli import main
from loupe.ingest.blobs import LocalBlobStore
from loupe.ingest.items import ItemSpec, Modality, item_id
from loupe.search.index import SEMANTIC, Point
from loupe.search.index.edge_store import EdgeIndex


def _library(data: Path) -> tuple[LocalBlobStore, str, str]:
    """One text item in collection c1 (live as 'loupe') and one orphan blob."""
    blobs = LocalBlobStore(data / "blobs")
    kept, orphan = blobs.put(b"kept text"), blobs.put(b"orphan text")
    old = time.time() - 7200
    os.utime(blobs.path_of(orphan), (old, old))
    index = EdgeIndex(data / "index", auto_optimize=False)
    index.create_collection("c1", model_id="m", dim=4, visual_dim=None)
    spec = ItemSpec(id=item_id(Modality.TEXT, kept), modality=Modality.TEXT, blob=kept)
    vector = np.ones(4, dtype=np.float32)
    index.upsert("c1", [Point(spec.id, {SEMANTIC: vector}, spec.payload(model_id="m"))])
    index.set_alias("loupe", "c1")
    index.close()
    return blobs, kept, orphan


def test_fsck_reports_then_repairs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path))
    blobs, kept, orphan = _library(tmp_path)

    runner = CliRunner()
    found = runner.invoke(main, ["fsck"])
    assert found.exit_code == 1, found.output
    assert f"orphan blobs: 1 ({orphan})" in found.output and "problems found" in found.output
    fixed = runner.invoke(main, ["fsck", "--repair"])
    assert fixed.exit_code == 0 and "orphans removed 1" in fixed.output
    again = runner.invoke(main, ["fsck"])
    assert again.exit_code == 0 and again.output.strip().endswith("clean")
    assert blobs.get(kept) == b"kept text"


def test_backup_then_restore_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "a"))
    _, kept, _ = _library(tmp_path / "a")
    runner = CliRunner()
    made = runner.invoke(main, ["backup", str(tmp_path / "bk")])
    assert made.exit_code == 0 and "1 collections, 2 blobs" in made.output, made.output
    twice = runner.invoke(main, ["backup", str(tmp_path / "bk")])
    assert twice.exit_code == 1 and "new or empty folder" in twice.output
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "b"))
    restored = runner.invoke(main, ["restore", str(tmp_path / "bk")])
    assert restored.exit_code == 0 and "{'loupe': 'c1'}" in restored.output, restored.output
    index = EdgeIndex(tmp_path / "b" / "index", auto_optimize=False)
    assert index.resolve_alias("loupe") == "c1" and index.count("c1") == 1
    index.close()
    assert LocalBlobStore(tmp_path / "b" / "blobs").get(kept) == b"kept text"
    assert runner.invoke(main, ["restore", str(tmp_path / "a")]).exit_code == 1  # not a backup
