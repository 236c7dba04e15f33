"""The relevance statistic: how well one candidate matches a query, on a calibrated scale.

Why not the raw score: text towers of the e5 family (and CLIP-like spaces with a modality gap)
are *anisotropic*: every vector shares a large common component, so any text scores high
against anything. With the bundled encoder on the sample gallery good matches score
~0.87-0.93 and nonsense ~0.80-0.88; the two ranges overlap, and a percentile of raw null-query
scores flags good queries. Loupe therefore removes the common component before judging, and
calibrates the judgement per collection (and so per encoder) against null queries
(``search.calibration``).

The statistic (``relevance``) of a query vector ``q`` with candidate vectors ``x_1..x_k``:

1. ``u_q`` = unit mean of the null queries' embeddings (the *query axis*: what every query
   shares); ``u_x`` = unit mean of the ``semantic`` vectors of a sample of the collection (the
   *item axis*, ``search.reference.item_axis``).
2. Debias by projecting out the axis and re-normalising: ``q' = unit(q - (q.u_q) u_q)``,
   ``x_i' = unit(x_i - (x_i.u_x) u_x)``. Projection (rather than subtracting the mean) is scale
   free, so combined and negative-steered query vectors are debiased correctly too.
3. ``relevance = max_i q'.x_i'`` over the ``TOP_K`` = 64 best candidates by raw score (the
   candidates the query fetched anyway, after its filter). Each candidate's own ``q'.x_i'`` is
   its *match*: ``strong`` above ``Reference.strong``, ``weak`` above the cut, else ``none``
   (``Match``, ``Reference.match``); candidates beyond the window are ``none``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float32]


class Match(StrEnum):
    """How well one candidate matches a query, on the calibrated relevance scale."""

    STRONG = "strong"
    WEAK = "weak"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Reference:
    """A collection's calibration: the two debiasing axes (unit vectors, or None when unused),
    the cut, the strong-match line, and the null queries' relevance values."""

    query_axis: Vector | None
    item_axis: Vector | None
    cut: float
    null_values: tuple[float, ...] = ()
    strong: float = math.inf

    def match(self, value: float) -> Match:
        """``strong`` above ``strong``, ``weak`` above ``cut``, else ``none``."""
        if value > self.strong:
            return Match.STRONG
        return Match.WEAK if value > self.cut else Match.NONE


EMPTY = Reference(None, None, math.inf)


def unit(vectors: NDArray[np.floating]) -> Vector:
    """Rows (or one vector) scaled to unit length (zero rows stay zero)."""
    out = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(out, axis=-1, keepdims=True)
    result: Vector = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
    return result


def debias(vectors: NDArray[np.floating], axis: Vector | None) -> Vector:
    """Rows (or one vector) with their component along the unit ``axis`` removed, re-normalised;
    just normalised when ``axis`` is None."""
    out = np.asarray(vectors, dtype=np.float32)
    if axis is not None:
        out = out - np.multiply.outer(out @ axis, axis)
    return unit(out)


def relevances(
    query: Vector,
    candidates: Sequence[Vector] | Vector,
    reference: Reference,
    bonus: Sequence[float] = (),
) -> list[float]:
    """``debias(q, query_axis) . debias(x_i, item_axis) + bonus_i`` for each candidate;
    ``bonus_i`` is candidate i's concept-route share of its fused score (``search.fusion``)."""
    matrix = np.asarray(candidates, dtype=np.float32)
    if matrix.size == 0:
        return []
    q = debias(query.reshape(-1), reference.query_axis)
    x = debias(matrix.reshape(-1, q.shape[0]), reference.item_axis)
    scores = x @ q
    if len(bonus):
        scores = scores + np.asarray(bonus[: scores.shape[0]], dtype=np.float32)
    return [float(v) for v in scores]


def relevance(
    query: Vector,
    candidates: Sequence[Vector] | Vector,
    reference: Reference,
    bonus: Sequence[float] = (),
) -> float:
    """``max_i`` of ``relevances`` (-inf without candidates)."""
    return max(relevances(query, candidates, reference, bonus), default=-math.inf)
