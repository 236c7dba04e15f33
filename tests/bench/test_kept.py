"""Kept benchmark collections (``loupe bench search --keep``): a folder is reused only when it
was built, completely, from the same inputs, and then names the collection to serve again."""

from __future__ import annotations

from pathlib import Path

from loupe.bench import kept


def _inputs(**changed: object) -> dict[str, object]:
    wanted = kept.fingerprint(size=1000, sigma=0.5, seed=0, crops=2, tenants=0, model_id="m")
    return {**wanted, **changed}


def test_a_complete_build_with_the_same_inputs_is_reused_with_its_collection(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "1k"
    folder.mkdir()
    assert kept.prepare(folder, _inputs()) is None and not folder.exists()  # never marked
    folder.mkdir()
    (folder / "data").write_text("built")
    kept.mark(folder, _inputs(), collection="c-20261130", optimize_s=1.5)
    marker = kept.prepare(folder, _inputs())
    assert marker is not None and marker["collection"] == "c-20261130"
    assert (folder / "data").exists()


def test_other_inputs_or_settings_rebuild_from_scratch(tmp_path: Path) -> None:
    folder = tmp_path / "1k"
    folder.mkdir()
    kept.mark(folder, _inputs(), collection="c", optimize_s=None)
    assert kept.prepare(folder, _inputs(full_scan_kb=1)) is None
    assert not folder.exists()
    assert "full_scan_kb" in _inputs() and "payload_indexes" in _inputs()
