from __future__ import annotations

import math

from loupe.search.calibration import SMALL_BUCKET, Calibrator, count_bucket
from loupe.search.concepts import ConceptRoute
from loupe.search.concepts.lexicon import Lexicon
from loupe.search.encoders.base import TextRole
from loupe.search.index.base import SEMANTIC, Point
from loupe.search.index.memory_store import NumpyIndex
from loupe.search.null_queries import NULL_QUERIES
from loupe.search.query import SearchQuery
from loupe.search.reference import OBJECT_STRIDE
from tests.search.conftest import HashingEncoder
from tests.search.service_kit import make_service

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


def test_a_small_collection_that_grows_is_recomputed_in_the_background_too(
    index: NumpyIndex,
) -> None:
    """A sample gallery growing during a bulk job changed bucket at 16 and 32 points, and each
    new reference (250 searches with the object nulls) held a user's search for 1-2 s."""
    encoder = HashingEncoder()
    fill(index, encoder, CORPUS)  # 5 points
    calibrator = Calibrator(index, recount_every=1)
    first = calibrator.reference("c", encoder)
    more = encoder.encode_texts([f"word{n}" for n in range(10)])
    index.upsert("c", [Point(f"q{n}", {SEMANTIC: v}, {}) for n, v in enumerate(more)])
    assert count_bucket(15) != count_bucket(5) and count_bucket(15) < SMALL_BUCKET
    assert calibrator.reference("c", encoder) is first  # not computed inside this request
    calibrator.wait(timeout=30)
    assert calibrator.reference("c", encoder) is not first


def test_empty_collection_cut_is_infinite(index: NumpyIndex) -> None:
    encoder = HashingEncoder()
    fill(index, encoder, [])
    assert Calibrator(index).cut("c", encoder) == math.inf


class RouteEncoder(HashingEncoder):
    """The hashing encoder with the shipped concept route (words → ImageNet classes)."""

    def __init__(self) -> None:
        super().__init__(seed="route")
        self.concept_route = ConceptRoute(Lexicon.shipped())


def object_names(encoder: RouteEncoder) -> list[str]:
    names = encoder.concept_route.lexicon.names
    return [names[i] for i in range(0, len(names), OBJECT_STRIDE)]


def test_object_nulls_are_the_routes_class_names_embedded_once(index: NumpyIndex) -> None:
    encoder = RouteEncoder()
    fill(index, encoder, CORPUS + [f"{name} photo" for name in object_names(encoder)[:40]])
    calibrator = Calibrator(index)
    reference = calibrator.reference("c", encoder)
    assert encoder.text_calls.count(object_names(encoder)) == 1
    # no photo has concepts: every name is a null; 40 of them share a word with a photo
    assert len(reference.object_values) == len(object_names(encoder))
    assert reference.object_cut is not None and reference.object_cut > reference.cut
    calibrator.forget()
    calibrator.reference("c", encoder)
    assert encoder.text_calls.count(object_names(encoder)) == 1
    assert Calibrator(index).reference("c", HashingEncoder(seed="route")).object_cut is None


def test_a_query_of_concept_words_is_judged_against_the_object_cut(index: NumpyIndex) -> None:
    # "violin" (all concept words) and "glorp" (none) are equally near the photo "violin
    # glorp" (cosine 0.71); names of absent things reach more than that here, letter salad less
    encoder = RouteEncoder()
    texts = CORPUS + [f"{name} photo" for name in object_names(encoder)[:40]] + ["violin glorp"]
    fill(index, encoder, texts)
    service = make_service(index, encoder, alias="c")
    try:
        reference = service.calibrator.reference("c", encoder)
        assert reference.object_cut is not None
        assert reference.cut < 0.7 < reference.object_cut
        assert service.search(SearchQuery(text="violin", limit=3)).no_good_match
        assert not service.search(SearchQuery(text="glorp", limit=3)).no_good_match
    finally:
        service.close()
