"""Evaluation points as ingest stores them, and the relevance bench's collections built with
enrichers (``loupe bench relevance --enrichers``)."""

from __future__ import annotations

import numpy as np
import pytest

from loupe.bench.evaluation import ingested as ingested_module
from loupe.bench.evaluation.ingested import eval_index, ingested
from loupe.bench.evaluation.relevance_cases import collections
from loupe.ingest.enrich.runner import build_enrichers
from loupe.search.encoders.pool import EncoderPool
from loupe.search.index.base import CONCEPTS, SEMANTIC
from tests.ingest.test_enrich import photo, sign_photo

pytestmark = pytest.mark.slow


def test_points_carry_what_the_enrichers_saw_in_batches(
    encoders: EncoderPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingested_module, "BATCH", 1)  # each image its own batch
    encoder = encoders.default
    images = [photo("chelsea"), sign_photo((800, 600))]
    payloads = [{"label": "cat"}, {"label": "sign"}]
    plain = ingested(encoder, images, ["a", "b"], payloads)
    seen = ingested(encoder, images, ["a", "b"], payloads, build_enrichers(["ocr", "colour"]))
    assert [p.id for p in seen] == ["a", "b"]
    assert [p.payload["label"] for p in seen] == ["cat", "sign"]
    assert all("enrich" not in p.payload for p in plain)
    assert "RE16" in seen[1].payload["enrich"]["text"]
    assert seen[0].payload["enrich"]["colours"]
    # the text read joins the sign's semantic vector, as at ingest; the cat's reads nothing
    assert not np.allclose(seen[1].vectors[SEMANTIC], plain[1].vectors[SEMANTIC])
    np.testing.assert_allclose(seen[0].vectors[SEMANTIC], plain[0].vectors[SEMANTIC])
    assert seen[0].sparse[CONCEPTS]
    index = eval_index(seen, encoder)
    assert [h.id for h in index.retrieve("loupe", ["b", "a"])] == ["b", "a"]


def test_relevance_collections_hold_the_enrichers_fields(encoders: EncoderPool) -> None:
    first = next(collections(encoders.default, per_class=1, enrichers=build_enrichers(["faces"])))
    astronaut = next(pid for pid, label in first.labels.items() if label == "samples:astronaut")
    (hit,) = first.index.retrieve("eval", [astronaut])
    assert hit.payload["enrich"]["people"] >= 1
