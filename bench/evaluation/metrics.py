"""Retrieval-quality metrics over embeddings: pure numpy, deterministic.

Scores are dot products of the given rows (cosine similarity for the unit rows encoders return).
Rankings sort by score, highest first; **ties keep the order of the gallery** (a stable sort), so
every result is reproducible.

Definitions, for one query with relevant set ``R`` (gallery items sharing the query's label) and
a ranking of the gallery:

- ``hit@k``: 1 if at least one of the top ``k`` is relevant, else 0. Averaged over queries this
  is what the deep-metric-learning literature calls "Recall@K" (CUB, SOP, In-Shop).
- ``recall@k``: ``|R ∩ top k| / |R|``, the fraction of the relevant items found in the top ``k``.
- ``precision@k``: ``|R ∩ top k| / k``.
- ``AP`` (average precision): the mean of ``precision@rank`` over the ranks of the relevant
  items, ``(1/|R|) Σ_{r: item at r relevant} precision@r``. ``mAP`` is its mean over queries.

Queries with no relevant item in the gallery are left out of every mean (they have no defined
recall or AP); the number of queries kept is reported as ``queries``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

DEFAULT_KS: tuple[int, ...] = (1, 5, 10)
_BLOCK = 256  # queries ranked at once: bounds memory at _BLOCK × gallery × 8 bytes


def _as_rows(vectors: NDArray[np.floating], name: str) -> NDArray[np.float32]:
    out = np.asarray(vectors, dtype=np.float32)
    if out.ndim != 2:
        raise ValueError(f"{name} must be a 2-d array of row vectors, got shape {out.shape}")
    return out


def _labels(labels: Sequence[str] | NDArray[np.str_], n: int, name: str) -> NDArray[np.str_]:
    out = np.asarray(labels, dtype=np.str_)
    if out.shape != (n,):
        raise ValueError(f"{name} has {out.shape[0] if out.ndim else 0} labels for {n} vectors")
    return out


def ranking_metrics(
    scores: NDArray[np.floating],
    relevant: NDArray[np.bool_],
    *,
    ks: Sequence[int] = DEFAULT_KS,
) -> dict[str, float]:
    """Mean ``hit@k``, ``recall@k``, ``precision@k`` and ``mAP`` of queries over one gallery.

    ``scores[q, i]`` is the score of gallery item ``i`` for query ``q``; ``relevant[q, i]``
    says whether it is a right answer. Returns ``{"hit@1": ..., "recall@1": ...,
    "precision@1": ..., ..., "mAP": ..., "queries": n_kept}``; every mean is 0.0 when no
    query has a relevant item.
    """
    scores = np.asarray(scores, dtype=np.float32)
    relevant = np.asarray(relevant, dtype=bool)
    if scores.shape != relevant.shape or scores.ndim != 2:
        raise ValueError(f"scores {scores.shape} and relevant {relevant.shape} must match (2-d)")
    if any(k < 1 for k in ks):
        raise ValueError(f"every k must be >= 1, got {list(ks)}")
    n_relevant = relevant.sum(axis=1)
    keep = n_relevant > 0
    scores, relevant, n_relevant = scores[keep], relevant[keep], n_relevant[keep]
    sums = {f"{name}@{k}": 0.0 for k in ks for name in ("hit", "recall", "precision")}
    ap_sum = 0.0
    for start in range(0, scores.shape[0], _BLOCK):
        block = slice(start, start + _BLOCK)
        order = np.argsort(-scores[block], axis=1, kind="stable")
        ranked = np.take_along_axis(relevant[block], order, axis=1)
        found = np.cumsum(ranked, axis=1)
        ranks = np.arange(1, ranked.shape[1] + 1)
        precision_at_hits = (found / ranks) * ranked
        ap_sum += float((precision_at_hits.sum(axis=1) / n_relevant[block]).sum())
        for k in ks:
            found_k = found[:, min(k, ranked.shape[1]) - 1]
            sums[f"hit@{k}"] += float((found_k > 0).sum())
            sums[f"recall@{k}"] += float((found_k / n_relevant[block]).sum())
            sums[f"precision@{k}"] += float((found_k / k).sum())
    n = scores.shape[0]
    result = {name: (total / n if n else 0.0) for name, total in sums.items()}
    result["mAP"] = ap_sum / n if n else 0.0
    result["queries"] = float(n)
    return result


def zero_shot_accuracy(
    image_vectors: NDArray[np.floating],
    image_labels: Sequence[str] | NDArray[np.str_],
    label_vectors: NDArray[np.floating],
    label_names: Sequence[str],
    *,
    ks: Sequence[int] = (1, 5),
) -> dict[str, float]:
    """Zero-shot classification: each image takes the labels whose text vectors score highest.

    ``label_vectors[j]`` embeds the text of ``label_names[j]``. ``top@k`` is the fraction of
    images whose true label is among their ``k`` best-scoring labels (ties: earlier label wins).
    Images whose label is not in ``label_names`` count as misses. Returns ``{"top@1": ...}``.
    """
    images = _as_rows(image_vectors, "image_vectors")
    texts = _as_rows(label_vectors, "label_vectors")
    truth = _labels(image_labels, images.shape[0], "image_labels")
    names = _labels(label_names, texts.shape[0], "label_names")
    scores = images @ texts.T
    relevant = truth[:, None] == names[None, :]
    order = np.argsort(-scores, axis=1, kind="stable")
    ranked = np.take_along_axis(relevant, order, axis=1)
    n = max(images.shape[0], 1)
    return {f"top@{k}": float(ranked[:, :k].any(axis=1).sum()) / n for k in ks}


def text_to_image(
    label_vectors: NDArray[np.floating],
    label_names: Sequence[str],
    image_vectors: NDArray[np.floating],
    image_labels: Sequence[str] | NDArray[np.str_],
    *,
    ks: Sequence[int] = DEFAULT_KS,
) -> dict[str, float]:
    """Text→image retrieval: each label's text queries the images; relevant = that label's images.

    See the module docstring for ``hit@k``, ``recall@k``, ``precision@k`` and ``mAP``.
    """
    texts = _as_rows(label_vectors, "label_vectors")
    images = _as_rows(image_vectors, "image_vectors")
    names = _labels(label_names, texts.shape[0], "label_names")
    truth = _labels(image_labels, images.shape[0], "image_labels")
    return ranking_metrics(texts @ images.T, names[:, None] == truth[None, :], ks=ks)


def image_to_image(
    image_vectors: NDArray[np.floating],
    image_labels: Sequence[str] | NDArray[np.str_],
    *,
    ks: Sequence[int] = DEFAULT_KS,
) -> dict[str, float]:
    """Leave-one-out image→image retrieval by label.

    Every image queries all the *other* images (it is removed from its own gallery); relevant =
    the other images with its label. Images alone in their label are left out as queries.
    """
    images = _as_rows(image_vectors, "image_vectors")
    truth = _labels(image_labels, images.shape[0], "image_labels")
    n = images.shape[0]
    empty = ranking_metrics(np.zeros((0, 0)), np.zeros((0, 0), dtype=bool), ks=ks)
    totals = {name: 0.0 for name in empty if name != "queries"}
    kept = 0.0
    for start in range(0, n, _BLOCK):
        rows = np.arange(start, min(start + _BLOCK, n))
        scores = images[rows] @ images.T
        relevant = truth[rows, None] == truth[None, :]
        without_self = ~np.eye(len(rows), n, k=start, dtype=bool)
        gallery_scores = scores[without_self].reshape(len(rows), n - 1)
        gallery_relevant = relevant[without_self].reshape(len(rows), n - 1)
        part = ranking_metrics(gallery_scores, gallery_relevant, ks=ks)
        for name, value in part.items():
            if name != "queries":
                totals[name] += value * part["queries"]
        kept += part["queries"]
    result = {name: (total / kept if kept else 0.0) for name, total in totals.items()}
    result["queries"] = kept
    return result
