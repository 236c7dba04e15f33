from __future__ import annotations

import math

from loupe.search.calibration import SMALL_BUCKET, Calibrator, count_bucket
from loupe.search.encoders.base import TextRole
from loupe.search.index.base import SEMANTIC, Point
from loupe.search.index.memory_store import NumpyIndex
from loupe.search.null_queries import NULL_QUERIES
from tests.search.conftest import HashingEncoder

CORPUS = ["red apple", "blue ocean waves", "green forest", "yellow sun", "black night sky"]


def fill(index: NumpyIndex, encoder: HashingEncoder, texts: list[str]) -> None:
    index.create_collection("c", model_id=encoder.model_id, dim=encoder.dim, visual_dim=None)
    vectors = encoder.encode_texts(texts, role=TextRole.PASSAGE)
    index.upsert("c", [Point(f"p{n}", {SEMANTIC: v}, {}) for n, v in enumerate(vectors)])


def test_there_are_fifty_distinct_null_queries() -> None:
    assert len(set(NULL_QUERIES)) == len(NULL_QUERIES) == 50


def test_buckets_double() -> None:
    assert [count_bucket(n) for n in (0, 1, 2, 3, 6, 7, 1000)] == [0, 1, 1, 2, 2, 3, 9]


def test_cut_separates_real_queries_from_nonsense(index: NumpyIndex) -> None:
    encoder = HashingEncoder()
    fill(index, encoder, CORPUS)
    calibrator = Calibrator(index)
    for query, good in (("red apple", True), ("ocean", True), ("vrumple skadoosh", False)):
        vector = encoder.encode_texts([query])[0]
        hits = index.search("c", vector, limit=calibrator.top_k, with_vectors=True)
        candidates = [h.vectors[SEMANTIC] for h in hits if h.vectors]
        assert calibrator.is_weak("c", encoder, vector, candidates) is not good


def test_reference_is_cached_per_bucket_and_recomputed_in_the_background_when_it_changes(
    index: NumpyIndex,
) -> None:
    encoder = HashingEncoder()
    fill(index, encoder, CORPUS + [f"term{n}" for n in range(2**SMALL_BUCKET)])
    calibrator = Calibrator(index, recount_every=1)
    first = calibrator.reference("c", encoder)
    assert calibrator.reference("c", encoder) is first
    more = encoder.encode_texts([f"word{n}" for n in range(2**SMALL_BUCKET + 10)])
    index.upsert("c", [Point(f"q{n}", {SEMANTIC: v}, {}) for n, v in enumerate(more)])
    calls = len(encoder.text_calls)
    assert calibrator.reference("c", encoder) is first  # serves while the new one is computed
    calibrator.wait(timeout=30)
    grown = calibrator.reference("c", encoder)
    assert grown is not first
    assert len(grown.null_values) == len(first.null_values)
    assert len(encoder.text_calls) == calls  # null queries are embedded once per model
    calibrator.forget("c")
    assert calibrator.reference("c", encoder) is not grown


def test_empty_collection_cut_is_infinite(index: NumpyIndex) -> None:
    encoder = HashingEncoder()
    fill(index, encoder, [])
    assert Calibrator(index).cut("c", encoder) == math.inf
