"""``loupe eval seen`` on the bundled encoder: what the enrichers saw lifts text-in-image and
compositional queries, and the report says so per query type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from loupe.api.cli import main
from loupe.bench.evaluation.seen import QUERIES, collection, points, run_seen
from loupe.ingest.enrich.runner import build_enrichers
from loupe.search.encoders.pool import EncoderPool
from loupe.search.index.base import CONCEPTS

pytestmark = pytest.mark.slow


def test_the_collection_holds_every_answer() -> None:
    labels = set(collection())
    for queries in QUERIES.values():
        for right in queries.values():
            assert right <= labels


def test_points_carry_the_concepts_as_ingest_stores_them(encoders: EncoderPool) -> None:
    images = {label: image for label, image in collection().items() if label == "chelsea"}
    (point,) = points(images, encoders.default, None)
    assert point.sparse[CONCEPTS]  # the concept route is measured as well as the dense one


def test_evidence_lifts_text_and_compositional_queries(encoders: EncoderPool) -> None:
    report = run_seen(encoders.default, build_enrichers(["ocr", "faces", "colour"]))
    assert set(report.hits) == {"text-en", "text-zh", "meaning", "comp-en", "comp-zh"}
    for kind in ("text-en", "text-zh"):
        assert report.hits[kind]["before"] <= 0.7
        assert report.hits[kind]["after"] >= 0.85
    for kind in ("meaning", "comp-en", "comp-zh"):
        assert report.hits[kind]["after"] > report.hits[kind]["before"]


def test_without_enrichers_after_equals_before(encoders: EncoderPool) -> None:
    report = run_seen(encoders.default, build_enrichers([]))
    for figures in report.hits.values():
        assert figures["after"] == figures["before"]


def test_loupe_eval_seen_writes_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOUPE_ENRICHERS", "colour")
    out = tmp_path / "seen.json"
    result = CliRunner().invoke(main, ["eval", "seen", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "comp-en" in result.output
    body = json.loads(out.read_text(encoding="utf-8"))
    assert body["enrichers"] == ["colour"]
