"""The GPU benchmark's program runs on the CPU at smoke sizes: every section reports a figure,
and Loupe's own clip: encoder section goes through ``search/encoders/clip.py``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("sentence_transformers", reason="needs loupe[clip]")

from loupe.bench.gpu.run import main


def test_smoke_run_reports_every_section(tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    assert main(["--smoke", "--device", "cpu", "--out", str(out), "--pools", "thread"]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [row for row in rows if "error" in row] == []
    sections = {row["section"] for row in rows}
    assert sections == {
        "encoder",
        "clip-prepare",
        "clip-forward",
        "clip-images",
        "clip-text",
        "decode-only",
        "end-to-end",
    }
    assert all(row["img_per_s"] > 0 for row in rows)
    text = [row for row in rows if row["section"] == "clip-text" and row["batch"] == 1]
    assert 0 < text[0]["p50_ms"] <= text[0]["p95_ms"]
    assert all(row["unit_norm"] for row in rows if row["section"] == "end-to-end")
