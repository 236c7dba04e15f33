"""The serving process never writes a base (qdrant-edge's flush holds the GIL for as long as a
base is large): deletes and overwrites of base points are tombstones, left out of searches,
kept across a restart and applied by the next build; bases have no WAL."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from loupe.search.index import SEMANTIC
from loupe.search.index.edge_build import HOLD_AT_ENV
from loupe.search.index.edge_layers import TOMBSTONES, read_layers
from loupe.search.index.edge_store import EdgeIndex
from tests.search.test_edge_builds import edited
from tests.search.test_index import DIM, VISUAL_DIM, make_points, pid

POINTS = make_points(120, seed=5)
GONE = [pid(i) for i in range(6)]
EDITED = [pid(i) for i in range(6, 12)]


def _folder(root: Path) -> Path:
    return next((root / "collections").iterdir())


def _base(root: Path) -> Path:
    folder = _folder(root)
    layers = read_layers(folder)
    assert layers is not None and len(layers.bases) == 1
    return folder / layers.bases[0]


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def _built(root: Path) -> EdgeIndex:
    index = EdgeIndex(root, auto_optimize=False)
    index.create_collection("c", model_id="m", dim=DIM, visual_dim=VISUAL_DIM)
    index.upsert("c", POINTS)
    index.optimize("c")
    return index


def test_a_base_has_no_wal_and_is_not_written_by_deletes_or_overwrites(tmp_path: Path) -> None:
    index = _built(tmp_path)
    base = _base(tmp_path)
    assert json.loads((base / "edge_config.json").read_text())["wal_enabled"] is False
    before = _files(base)
    index.delete("c", GONE)
    index.upsert("c", [edited(p) for p in POINTS if p.id in EDITED])
    assert _files(base) == before  # nothing in the base folder changed
    lines = (_folder(tmp_path) / TOMBSTONES).read_text().split()
    assert sorted(lines[1::2]) == sorted(GONE + EDITED)
    assert set(lines[0::2]) == {base.name}
    assert index.retrieve("c", GONE) == []
    assert index.count("c") == len(POINTS) - len(GONE)
    for hit in index.retrieve("c", EDITED):
        assert hit.payload["edited"] is True
    hits = index.search("c", POINTS[0].vectors[SEMANTIC], limit=len(POINTS))
    assert not {h.id for h in hits} & set(GONE)
    assert len({h.id for h in hits}) == len(hits)
    index.close()


def test_tombstones_survive_a_restart_and_the_next_build_applies_them(tmp_path: Path) -> None:
    index = _built(tmp_path)
    index.delete("c", GONE)
    index.upsert("c", [edited(p) for p in POINTS if p.id in EDITED])
    index.close()

    index = EdgeIndex(tmp_path, auto_optimize=False)
    assert index.retrieve("c", GONE) == []
    assert index.count("c") == len(POINTS) - len(GONE)
    index.optimize("c")
    assert (_folder(tmp_path) / TOMBSTONES).read_text() == ""  # applied, then forgotten
    assert index.retrieve("c", GONE) == []
    assert index.count("c") == len(POINTS) - len(GONE)
    edits = index.retrieve("c", EDITED)
    assert len(edits) == len(EDITED) and all(h.payload["edited"] is True for h in edits)
    assert index.index_state("c").pending == 0
    index.close()


def test_a_base_written_with_a_wal_is_rebuilt_without_one(tmp_path: Path) -> None:
    index = _built(tmp_path)
    index.close()
    base = _base(tmp_path)
    config = json.loads((base / "edge_config.json").read_text())
    (base / "edge_config.json").write_text(json.dumps({**config, "wal_enabled": True}))

    index = EdgeIndex(tmp_path, auto_optimize=False)
    index.delete("c", GONE)
    index.upsert("c", [edited(POINTS[50])])  # something to build
    index.optimize("c")
    assert _base(tmp_path).name != base.name
    config = json.loads((_base(tmp_path) / "edge_config.json").read_text())
    assert config["wal_enabled"] is False
    assert index.count("c") == len(POINTS) - len(GONE)
    index.close()


def test_a_delete_during_a_build_hides_the_point_from_the_next_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each query reads the base's tombstones (kept sorted between writes): a delete made after
    a search must show in the next one, while a build runs and after its swap."""
    index = _built(tmp_path)
    index.upsert("c", [edited(POINTS[100])])  # something to build
    monkeypatch.setenv(HOLD_AT_ENV, "optimize")
    # daemon: a failing assertion below must not leave the run waiting for a held build
    builder = threading.Thread(target=index.optimize, args=("c",), daemon=True)
    builder.start()
    deadline = time.monotonic() + 120
    while index.index_state("c").build_phase != "optimize" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert index.index_state("c").building

    def found() -> set[str]:
        return {h.id for h in index.search("c", POINTS[0].vectors[SEMANTIC], limit=len(POINTS))}

    for gone in range(3):  # each delete after a search that read the tombstones before it
        assert pid(gone) in found()
        index.delete("c", [pid(gone)])
        assert not found() & set(GONE[: gone + 1])
    folder = _folder(tmp_path)
    target = index._get("c")[1].layers.build.target  # type: ignore[union-attr]
    (folder / f".{target}.go").touch()
    builder.join(timeout=120)
    assert not index.index_state("c").building
    assert not found() & set(GONE[:3])
    assert pid(3) in found()
    index.delete("c", [pid(3)])
    assert not found() & set(GONE[:4])
    assert len(found()) == len(POINTS) - 4
    index.close()
