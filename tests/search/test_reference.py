from __future__ import annotations

import math

import numpy as np
import pytest

from loupe.search.encoders.base import TextRole
from loupe.search.index.base import CONCEPTS, SEMANTIC, Point, SparseVector
from loupe.search.index.memory_store import NumpyIndex
from loupe.search.null_queries import NULL_QUERIES
from loupe.search.reference import (
    BATCH,
    ObjectNulls,
    build_reference,
    item_axis,
    null_cut,
)
from loupe.search.relevance import CONCEPT_MATCH, Reference, relevance, unit
from tests.search.conftest import HashingEncoder


def test_cut_formula() -> None:
    scores = [float(s) for s in np.linspace(0.0, 1.0, 101)]
    q95, q50 = 0.95, 0.5
    assert null_cut(scores, margin=0.25) == pytest.approx(q95 + 0.25 * (q95 - q50))
    assert null_cut([], margin=0.25) == math.inf


def test_a_tiny_collection_has_no_item_axis(index: NumpyIndex) -> None:
    encoder = HashingEncoder()
    index.create_collection("c", model_id=encoder.model_id, dim=encoder.dim, visual_dim=None)
    texts = ["red apple", "blue ocean waves", "green forest", "yellow sun", "black night sky"]
    for name, batch in (("p", texts), ("w", [f"word{n}" for n in range(10)])):
        vectors = encoder.encode_texts(batch, role=TextRole.PASSAGE)
        index.upsert("c", [Point(f"{name}{n}", {SEMANTIC: v}, {}) for n, v in enumerate(vectors)])
        if name == "p":
            assert item_axis(index, "c") is None
    axis = item_axis(index, "c")
    assert axis is not None
    assert float(np.linalg.norm(axis)) == pytest.approx(1.0)


def test_object_nulls_count_only_things_the_classifier_sees_nowhere(index: NumpyIndex) -> None:
    # two photos; the classifier gives concept 7 (say, violin) 0.6 on the first: its name is
    # no null here. Concepts 3 and 9 are seen nowhere (9 only under the concept line).
    encoder = HashingEncoder()
    index.create_collection("c", model_id=encoder.model_id, dim=encoder.dim, visual_dim=None)
    texts = ["violin on a chair", "green forest"] + [f"word{n}" for n in range(10)]
    vectors = encoder.encode_texts(texts, role=TextRole.PASSAGE)
    concepts = [{7: 0.6, 3: 0.01}, {9: CONCEPT_MATCH / 2}] + [{}] * 10
    index.upsert(
        "c",
        [
            Point(f"p{n}", {SEMANTIC: v}, {}, {CONCEPTS: SparseVector.of(c)} if c else {})
            for n, (v, c) in enumerate(zip(vectors, concepts, strict=True))
        ],
    )
    names = encoder.encode_texts(["violin", "chair", "forest"], role=TextRole.QUERY)
    nulls = encoder.encode_texts(list(NULL_QUERIES), role=TextRole.QUERY)
    objects = ObjectNulls(names, (7, 3, 9), margin=0.0)
    reference = build_reference(
        index, "c", null_vectors=nulls, top_k=64, margin=1.0, objects=objects
    )
    assert len(reference.object_values) == 2  # "violin" is shown: not a null
    assert reference.object_cut == pytest.approx(null_cut(reference.object_values, margin=0.0))
    plain = build_reference(index, "c", null_vectors=nulls, top_k=64, margin=1.0)
    assert plain.object_cut is None and plain.cut == reference.cut


def test_each_null_query_is_judged_by_its_own_hits(index: NumpyIndex) -> None:
    """The null queries' searches go to the index in batches; each value must still be that
    null's relevance over the hits of its own search (the pairing is what a batch can break)."""
    encoder = HashingEncoder()
    index.create_collection("c", model_id=encoder.model_id, dim=encoder.dim, visual_dim=None)
    texts = [f"{a} {b}" for a in ("red", "blue", "green", "old") for b in ("apple", "sea", "car")]
    vectors = encoder.encode_texts(texts * 3, role=TextRole.PASSAGE)
    index.upsert("c", [Point(f"p{n}", {SEMANTIC: v}, {}) for n, v in enumerate(vectors)])
    nulls = encoder.encode_texts(list(NULL_QUERIES), role=TextRole.QUERY)
    reference = build_reference(index, "c", null_vectors=nulls, top_k=5, margin=1.0)
    axis = item_axis(index, "c")
    assert axis is not None and len(nulls) > BATCH  # more than one batch
    total = nulls.sum(axis=0)
    expected = []
    for vector in nulls:
        hits = index.search("c", vector, limit=5, with_vectors=(SEMANTIC,))
        others = unit((total - vector) / (len(nulls) - 1))
        found = [h.vectors[SEMANTIC] for h in hits if h.vectors]
        expected.append(relevance(vector, found, Reference(others, axis, math.inf)))
    assert reference.null_values == pytest.approx(tuple(expected))
