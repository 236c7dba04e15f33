"""The concept eval: its metrics, and the photo/query table built from GCompris's photos."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from loupe.bench.evaluation.concept_set import CATEGORIES, SUBJECTS
from loupe.bench.evaluation.concepts import load_photos, queries, scores
from loupe.bench.evaluation.gcompris import RCC_DIR


def test_scores_hit_at_3_and_average_precision_at_10() -> None:
    assert scores([5, 1, 2], frozenset({1})) == (1.0, 0.5)
    assert scores([5, 6, 7, 1], frozenset({1, 2})) == pytest.approx((0.0, 0.25 / 2))
    assert scores([1, 2], frozenset({1, 2})) == (1.0, 1.0)


@pytest.mark.skipif(not RCC_DIR.is_dir(), reason="needs Debian gcompris-qt-data")
def test_the_set_has_164_real_photos_and_258_queries() -> None:
    photos = load_photos()
    assert len(photos) == 164
    assert all(max(p.image.size) >= 320 and p.image.mode == "RGB" for p in photos)
    qs = queries(photos)
    assert len(qs) == 4 * len(SUBJECTS) + 2 * len(CATEGORIES) == 258
    assert all(q.relevant for q in qs)
    kinds = {(q.lang, q.kind) for q in qs}
    assert kinds == {
        (lang, kind) for lang in ("en", "zh") for kind in ("subject", "phrase", "category")
    }
    buffer = io.BytesIO()
    photos[0].image.save(buffer, "PNG")
    assert Image.open(buffer).size == photos[0].image.size
