"""Fused ranking: dense cosine + weight x concept score over the union of both routes."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from loupe.search.concepts import ConceptQuery
from loupe.search.fusion import concept_evidence, fused_search, steer
from loupe.search.index.base import CONCEPTS, SEMANTIC, Point, SparseVector
from loupe.search.index.memory_store import NumpyIndex


def pid(i: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fusion-{i}"))


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def index() -> NumpyIndex:
    """Point 0: nearest by the dense route, no concepts. Points 1-3: further, with concept 7 at
    probabilities 0.9, 0.5 and 0.1. Point 4: far, concept 8 only."""
    store = NumpyIndex()
    store.create_collection("c", model_id="m", dim=3, visual_dim=None)
    dense = [unit(1, 0, 0), unit(1, 0.5, 0), unit(1, 0.4, 0), unit(1, 0.3, 0), unit(0, 0, 1)]
    concepts = [{}, {7: 0.9}, {7: 0.5}, {7: 0.1}, {8: 1.0}]
    store.upsert(
        "c",
        [
            Point(pid(i), {SEMANTIC: v}, {"i": i}, {CONCEPTS: SparseVector.of(c)} if c else {})
            for i, (v, c) in enumerate(zip(dense, concepts, strict=True))
        ],
    )
    return store


def ranked(index: NumpyIndex, weight: float, limit: int = 5) -> list[int]:
    hits = fused_search(
        index,
        "c",
        unit(1, 0, 0),
        ConceptQuery(weights={7: 1.0}),
        weight=weight,
        flt=None,
        limit=limit,
        with_vectors=False,
    )
    return [h.payload["i"] for h in hits]


def test_weight_zero_is_the_dense_ranking(index: NumpyIndex) -> None:
    assert ranked(index, 0.0) == [0, 3, 2, 1, 4]


def test_concepts_lift_their_photos_by_probability(index: NumpyIndex) -> None:
    assert ranked(index, 1.0) == [1, 2, 3, 0, 4]
    hits = fused_search(
        index, "c", unit(1, 0, 0), ConceptQuery(weights={7: 1.0}),
        weight=1.0, flt=None, limit=1, with_vectors=False,
    )  # fmt: skip
    cosine = float(unit(1, 0.5, 0) @ unit(1, 0, 0))
    assert hits[0].score == pytest.approx(cosine + 0.9)


def test_the_concept_route_finds_what_the_dense_top_misses(index: NumpyIndex) -> None:
    # limit 1: the dense route alone would fetch only point 0
    assert ranked(index, 1.0, limit=1) == [1]


def test_negatives_cancel_shared_concepts() -> None:
    positive = ConceptQuery(weights={7: 1.0, 8: 1.0})
    steered = steer(positive, [ConceptQuery(weights={7: 1.0, 9: 0.5})], weight=1.0)
    assert steered.weights == {7: 0.0, 8: 1.0, 9: -0.5}
    assert steer(positive, [], weight=1.0) is positive


def test_concept_evidence_is_the_concept_score_scaled_by_the_root_of_coverage(
    index: NumpyIndex,
) -> None:
    hits = index.search("c", unit(1, 0, 0), limit=5, with_vectors=True)
    whole = concept_evidence(ConceptQuery(weights={7: 1.0}), hits)
    assert whole[pid(1)] == pytest.approx(0.9) and whole[pid(0)] == 0.0
    quarter = concept_evidence(ConceptQuery(weights={7: 1.0}, coverage=0.25), hits)
    assert quarter[pid(1)] == pytest.approx(0.45)
    assert concept_evidence(None, hits) == {}


def test_steering_keeps_the_coverage() -> None:
    positive = ConceptQuery(weights={7: 1.0}, coverage=0.5)
    assert steer(positive, [ConceptQuery(weights={8: 1.0})], weight=1.0).coverage == 0.5
