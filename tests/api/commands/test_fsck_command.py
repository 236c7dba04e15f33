"""``loupe fsck`` on a data folder no server holds: exit 1 with problems, repair, exit 0."""

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


def test_fsck_reports_then_repairs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path))
    blobs = LocalBlobStore(tmp_path / "blobs")
    kept, orphan = blobs.put(b"kept text"), blobs.put(b"orphan text")
    old = time.time() - 7200
    os.utime(blobs.path_of(orphan), (old, old))
    index = EdgeIndex(tmp_path / "index", auto_optimize=False)
    index.create_collection("c1", model_id="m", dim=4, visual_dim=None)
    spec = ItemSpec(id=item_id(Modality.TEXT, kept), modality=Modality.TEXT, blob=kept)
    vector = np.ones(4, dtype=np.float32)
    index.upsert("c1", [Point(spec.id, {SEMANTIC: vector}, spec.payload(model_id="m"))])
    index.close()

    runner = CliRunner()
    found = runner.invoke(main, ["fsck"])
    assert found.exit_code == 1, found.output
    assert f"orphan blobs: 1 ({orphan})" in found.output and "problems found" in found.output
    fixed = runner.invoke(main, ["fsck", "--repair"])
    assert fixed.exit_code == 0 and "orphans removed 1" in fixed.output
    again = runner.invoke(main, ["fsck"])
    assert again.exit_code == 0 and again.output.strip().endswith("clean")
    assert blobs.get(kept) == b"kept text"
