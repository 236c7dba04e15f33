from __future__ import annotations

import math

import numpy as np
import pytest

from search.calibration import NULL_QUERIES, Calibrator, count_bucket, null_cut
from search.encoders.base import TextRole
from search.index.base import SEMANTIC, Point
from search.index.memory_store import NumpyIndex
from tests.search.conftest import HashingEncoder

CORPUS = ["red apple", "blue ocean waves", "green forest", "yellow sun", "black night sky"]


def fill(index: NumpyIndex, encoder: HashingEncoder, texts: list[str]) -> None:
    index.create_collection("c", model_id=encoder.model_id, dim=encoder.dim, visual_dim=None)
    vectors = encoder.encode_texts(texts, role=TextRole.PASSAGE)
    index.upsert("c", [Point(f"p{n}", {SEMANTIC: v}, {}) for n, v in enumerate(vectors)])


def test_there_are_fifty_distinct_null_queries() -> None:
    assert len(set(NULL_QUERIES)) == len(NULL_QUERIES) == 50


def test_cut_formula() -> None:
    scores = [float(s) for s in np.linspace(0.0, 1.0, 101)]
    q95, q50 = 0.95, 0.5
    assert null_cut(scores, margin=0.25) == pytest.approx(q95 + 0.25 * (q95 - q50))
    assert null_cut([], margin=0.25) == math.inf


def test_buckets_double() -> None:
    assert [count_bucket(n) for n in (0, 1, 2, 3, 6, 7, 1000)] == [0, 1, 1, 2, 2, 3, 9]


def test_cut_separates_real_queries_from_nonsense(index: NumpyIndex) -> None:
    encoder = HashingEncoder()
    fill(index, encoder, CORPUS)
    cut = Calibrator(index).cut("c", encoder)
    for query, good in (("red apple", True), ("ocean", True), ("vrumple skadoosh", False)):
        best = index.search("c", encoder.encode_texts([query])[0], limit=1)[0].score
        assert (best > cut) is good


def test_cut_is_cached_per_bucket_and_recomputed_when_it_changes(index: NumpyIndex) -> None:
    encoder = HashingEncoder()
    fill(index, encoder, CORPUS)
    calibrator = Calibrator(index, recount_every=1)
    calibrator.cut("c", encoder)
    calls = len(encoder.text_calls)
    calibrator.cut("c", encoder)
    assert len(encoder.text_calls) == calls
    more = encoder.encode_texts([f"word{n}" for n in range(10)])
    index.upsert("c", [Point(f"q{n}", {SEMANTIC: v}, {}) for n, v in enumerate(more)])
    calls = len(encoder.text_calls)
    calibrator.cut("c", encoder)
    assert len(encoder.text_calls) == calls + 1
    calibrator.forget("c")
    calibrator.cut("c", encoder)
    assert len(encoder.text_calls) == calls + 2


def test_empty_collection_cut_is_infinite(index: NumpyIndex) -> None:
    encoder = HashingEncoder()
    fill(index, encoder, [])
    assert Calibrator(index).cut("c", encoder) == math.inf
