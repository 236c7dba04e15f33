"""ConSE: an image vector is the probability-weighted mean of its top classes' text vectors.

Norouzi et al., "Zero-Shot Learning by Convex Combination of Semantic Embeddings" (ICLR 2014).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from loupe.search.encoders.base import Vectors, l2_normalise


def softmax(logits: NDArray[np.float32]) -> NDArray[np.float32]:
    """Row-wise softmax, numerically stable."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    probs: NDArray[np.float32] = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
    return probs


def conse(logits: NDArray[np.float32], class_vectors: Vectors, *, top_k: int) -> Vectors:
    """(n, 1000) logits and (1000, dim) class vectors → (n, dim) unit rows.

    Each row is normalise(Σ_{top_k classes} p(class) · text(class)), p renormalised over top_k.
    """
    if logits.shape[0] == 0:
        return np.zeros((0, class_vectors.shape[1]), dtype=np.float32)
    probs = softmax(logits)
    k = min(top_k, probs.shape[1])
    top = np.argpartition(-probs, k - 1, axis=1)[:, :k]
    weights = np.take_along_axis(probs, top, axis=1)
    weights /= weights.sum(axis=1, keepdims=True)
    mixed = np.einsum("nk,nkd->nd", weights, class_vectors[top])
    return l2_normalise(mixed)
