"""Metric code proven on tiny cases whose values are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from loupe.bench.evaluation.metrics import (
    image_to_image,
    ranking_metrics,
    text_to_image,
    zero_shot_accuracy,
)


def unit(*degrees: float) -> np.ndarray:
    """Unit vectors in the plane at the given angles."""
    radians = np.deg2rad(np.asarray(degrees, dtype=np.float64))
    return np.stack([np.cos(radians), np.sin(radians)], axis=1).astype(np.float32)


def test_ranking_metrics_one_query_relevant_at_ranks_1_and_3() -> None:
    scores = np.array([[0.9, 0.8, 0.7, 0.1]])
    relevant = np.array([[True, False, True, False]])
    got = ranking_metrics(scores, relevant, ks=(1, 2, 5))
    assert got["mAP"] == pytest.approx((1 / 1 + 2 / 3) / 2)  # 5/6
    assert got["hit@1"] == 1.0
    assert got["recall@1"] == pytest.approx(1 / 2)
    assert got["precision@1"] == 1.0
    assert got["recall@2"] == pytest.approx(1 / 2)
    assert got["precision@2"] == pytest.approx(1 / 2)
    assert got["recall@5"] == 1.0  # k beyond the gallery: all four ranked
    assert got["precision@5"] == pytest.approx(2 / 5)
    assert got["queries"] == 1.0


def test_ranking_metrics_means_over_queries_and_ignores_order_of_gallery() -> None:
    # query 2 ranks the gallery 3, 0, 2, 1; relevant 0 and 1 are at ranks 2 and 4 → AP 1/2
    scores = np.array([[0.9, 0.8, 0.7, 0.1], [0.5, 0.1, 0.3, 0.9]])
    relevant = np.array([[True, False, True, False], [True, True, False, False]])
    got = ranking_metrics(scores, relevant, ks=(1, 4))
    assert got["mAP"] == pytest.approx(((5 / 6) + (1 / 2)) / 2)  # 2/3
    assert got["hit@1"] == pytest.approx(1 / 2)
    assert got["recall@4"] == 1.0
    assert got["precision@4"] == pytest.approx(1 / 2)


def test_ties_keep_gallery_order() -> None:
    got = ranking_metrics(np.zeros((1, 3)), np.array([[False, True, False]]), ks=(1, 2))
    assert got["mAP"] == pytest.approx(1 / 2)
    assert got["hit@1"] == 0.0
    assert got["hit@2"] == 1.0


def test_queries_without_relevant_items_are_left_out() -> None:
    scores = np.array([[0.9, 0.1], [0.2, 0.8]])
    relevant = np.array([[False, False], [False, True]])
    got = ranking_metrics(scores, relevant, ks=(1,))
    assert got["queries"] == 1.0
    assert got["mAP"] == 1.0
    nothing = ranking_metrics(scores, np.zeros((2, 2), dtype=bool), ks=(1,))
    assert nothing == {
        "hit@1": 0.0,
        "recall@1": 0.0,
        "precision@1": 0.0,
        "mAP": 0.0,
        "queries": 0.0,
    }


def test_ranking_metrics_refuses_mismatched_shapes_and_bad_k() -> None:
    with pytest.raises(ValueError, match="must match"):
        ranking_metrics(np.zeros((2, 3)), np.zeros((2, 2), dtype=bool))
    with pytest.raises(ValueError, match="k must be"):
        ranking_metrics(np.zeros((1, 1)), np.ones((1, 1), dtype=bool), ks=(0,))


def test_zero_shot_accuracy_four_images_two_labels() -> None:
    labels = unit(0, 90)  # "cat" along x, "dog" along y
    images = unit(10, 40, 50, 80)  # nearest label: cat, cat, dog, dog
    truth = ["cat", "dog", "dog", "cat"]  # right, wrong, right, wrong
    got = zero_shot_accuracy(images, truth, labels, ["cat", "dog"], ks=(1, 2))
    assert got == {"top@1": 0.5, "top@2": 1.0}


def test_zero_shot_counts_unknown_labels_as_misses() -> None:
    got = zero_shot_accuracy(unit(0, 0), ["cat", "bird"], unit(0, 90), ["cat", "dog"], ks=(2,))
    assert got == {"top@2": 0.5}


def test_text_to_image_two_labels_hand_ranked() -> None:
    images = unit(0, 50, 60, 90)
    image_labels = ["a", "a", "b", "b"]
    texts = unit(0, 90)
    # "a" (0°) ranks 0°, 50°, 60°, 90° → relevant at 1, 2 → AP 1
    # "b" (90°) ranks 90°, 60°, 50°, 0° → relevant at 1, 2 → AP 1
    got = text_to_image(texts, ["a", "b"], images, image_labels, ks=(1,))
    assert got["mAP"] == 1.0
    assert got["recall@1"] == pytest.approx(1 / 2)
    # a query at 54° for "a" ranks 50°, 60°, 90°, 0°: relevant at 1 and 4 → AP (1 + 2/4) / 2
    got = text_to_image(unit(54), ["a"], images, image_labels, ks=(1, 3))
    assert got["mAP"] == pytest.approx(3 / 4)
    assert got["hit@1"] == 1.0
    assert got["recall@3"] == pytest.approx(1 / 2)


def test_image_to_image_leave_one_out_hand_computed() -> None:
    # cosines: 0-50 .643, 0-60 .5, 0-90 0, 50-60 .985, 50-90 .766, 60-90 .866
    # query 0°: 50° first → AP 1 | query 50°: 60°, 90°, 0° → AP 1/3
    # query 60°: 50°, 90°, 0° → AP 1/2 | query 90°: 60° first → AP 1
    got = image_to_image(unit(0, 50, 60, 90), ["a", "a", "b", "b"], ks=(1, 5))
    assert got["mAP"] == pytest.approx((1 + 1 / 3 + 1 / 2 + 1) / 4)  # 17/24
    assert got["hit@1"] == pytest.approx(1 / 2)  # would be 1 if a query could find itself
    assert got["recall@1"] == pytest.approx(1 / 2)
    assert got["hit@5"] == 1.0
    assert got["precision@5"] == pytest.approx(1 / 5)
    assert got["queries"] == 4.0


def test_image_to_image_skips_singleton_labels_but_keeps_them_in_the_gallery() -> None:
    # query 0°: 30° (a) then 40° (c) → AP 1 | query 30°: 40° (c) then 0° (a) → AP 1/2
    got = image_to_image(unit(0, 30, 40), ["a", "a", "c"], ks=(1,))
    assert got["queries"] == 2.0
    assert got["mAP"] == pytest.approx(3 / 4)
    assert got["hit@1"] == pytest.approx(1 / 2)
    assert image_to_image(unit(0), ["a"])["queries"] == 0.0


def _reference_map(vectors: np.ndarray, labels: np.ndarray) -> float:
    """Plain-Python leave-one-out mAP, query by query."""
    aps = []
    for q in range(len(labels)):
        others = [i for i in range(len(labels)) if i != q]
        ranked = sorted(others, key=lambda i: -float(vectors[q] @ vectors[i]))
        hits, precisions = 0, []
        for rank, i in enumerate(ranked, start=1):
            if labels[i] == labels[q]:
                hits += 1
                precisions.append(hits / rank)
        if precisions:
            aps.append(sum(precisions) / len(precisions))
    return sum(aps) / len(aps)


def test_image_to_image_matches_query_by_query_reference_across_blocks() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(300, 8)).astype(np.float32)  # 300 > one block of 256 queries
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = rng.choice(np.array(["x", "y", "z"]), size=300)
    got = image_to_image(vectors, labels)
    assert math.isclose(got["mAP"], _reference_map(vectors, labels), rel_tol=1e-9)


def test_label_count_must_match_vectors() -> None:
    with pytest.raises(ValueError, match="labels"):
        image_to_image(unit(0, 10), ["a"])
