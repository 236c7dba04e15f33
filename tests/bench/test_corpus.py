"""The search benchmark's collection builder: the same points whatever the baseline's dtype,
builds between steps, and an exact baseline that reads float16."""

from __future__ import annotations

import numpy as np
import pytest

from loupe.bench import corpus
from loupe.bench.corpus import Corpus, build, exact_top, exact_tops
from loupe.search.encoders import l2_normalise
from loupe.search.index.base import SEMANTIC, VISUAL
from loupe.search.index.memory_store import NumpyIndex


def _corpus() -> Corpus:
    rng = np.random.default_rng(3)
    return Corpus(
        image_semantic=l2_normalise(rng.standard_normal((20, 16)).astype(np.float32)),
        image_visual=l2_normalise(rng.standard_normal((20, 24)).astype(np.float32)),
        text_semantic=l2_normalise(rng.standard_normal((10, 16)).astype(np.float32)),
        texts=[f"text {i}" for i in range(10)],
        embed_s=0.0,
    )


def _index() -> NumpyIndex:
    index = NumpyIndex()
    index.create_collection("c", model_id="m", dim=16, visual_dim=24)
    return index


def test_steps_run_between_upserts_and_are_timed_apart() -> None:
    index = _index()
    seen: list[int] = []
    built = build(
        index,
        "c",
        _corpus(),
        size=5000,
        sigma=0.5,
        chunk=512,
        every=2048,
        at_step=lambda: seen.append(index.count("c")),
    )
    assert seen == [2048, 4096]  # after each 2048 upserted, none after the last point
    assert index.count("c") == 5000 == len(built.ids)
    assert built.steps_s >= 0.0 and built.upsert_s > 0.0
    # no steps without an index (a kept collection: only the vectors are made)
    again = build(
        None, "c", _corpus(), size=5000, sigma=0.5, chunk=512, every=2048, at_step=lambda: None
    )
    assert again.steps_s == 0.0
    assert again.ids == built.ids


def test_float16_baseline_holds_the_same_points_and_finds_the_same_neighbours() -> None:
    index = _index()
    wide = build(index, "c", _corpus(), size=3000, sigma=0.5, chunk=700)
    half = build(None, "c", _corpus(), size=3000, sigma=0.5, chunk=700, dtype=np.float16)
    assert half.semantic.dtype == np.float16 and half.visual.dtype == np.float16
    assert half.ids == wide.ids
    np.testing.assert_array_equal(half.image_rows, wide.image_rows)
    np.testing.assert_allclose(half.semantic, wide.semantic, atol=2e-3)
    np.testing.assert_allclose(half.visual, wide.visual, atol=2e-3)
    # the baseline's rows are the stored points, images and texts alike
    for row in (0, int(wide.image_rows[-1]), 2999):
        stored = index.retrieve("c", [wide.ids[row]], with_vectors=True)[0].vectors
        assert stored is not None
        np.testing.assert_allclose(stored[SEMANTIC], wide.semantic[row], atol=1e-6)
    image = index.retrieve("c", [wide.ids[int(wide.image_rows[5])]], with_vectors=True)[0]
    assert image.vectors is not None  # visual row 5 is the sixth image's
    np.testing.assert_allclose(image.vectors[VISUAL], wide.visual[5], atol=1e-6)


def test_exact_top_reads_a_float16_baseline_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    wide = build(None, "c", _corpus(), size=3000, sigma=0.5, chunk=700)
    half = build(None, "c", _corpus(), size=3000, sigma=0.5, chunk=700, dtype=np.float16)
    monkeypatch.setattr(corpus, "EXACT_CHUNK", 256)  # 12 chunks, the last one short
    for row in (7, 1234, 2999):
        query = wide.semantic[row]
        assert exact_top(half.semantic, query, 1)[0] == row
        overlap = set(exact_top(half.semantic, query, 10)) & set(
            exact_top(wide.semantic, query, 10)
        )
        assert len(overlap) >= 9


def test_exact_tops_answers_every_query_as_exact_top_does(monkeypatch: pytest.MonkeyPatch) -> None:
    wide = build(None, "c", _corpus(), size=3000, sigma=0.5, chunk=700)
    half = build(None, "c", _corpus(), size=3000, sigma=0.5, chunk=700, dtype=np.float16)
    monkeypatch.setattr(corpus, "EXACT_CHUNK", 256)  # the running best crosses 12 chunks
    queries = wide.semantic[[3, 300, 1500, 2999]]
    for matrix in (wide.semantic, half.semantic):
        tops = exact_tops(matrix, queries, 10)
        assert tops.shape == (4, 10)
        for query, top in zip(queries, tops, strict=True):
            np.testing.assert_array_equal(top, exact_top(matrix, query, 10))
