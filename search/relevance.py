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
3. ``relevance = max_i q'.x_i'`` over the ``TOP_K`` = 64 best candidates (the candidates the
   query fetched anyway, after its filter).

A candidate's *match* (``Match``, ``Reference.match``) weighs two kinds of evidence, each on its
own scale: its dense relevance ``q'.x_i'`` against the collection's null-query cut, and (text
queries with concepts) its concept evidence, about the probability that the photo shows what
the query's concept words name (``search.fusion.concept_evidence``), against fixed
probabilities. ``strong``: dense above ``Reference.strong`` or concept evidence at least
``CONCEPT_STRONG``; ``weak``: dense above the cut or concept evidence at least
``CONCEPT_MATCH``; else ``none``. Candidates beyond the window are ``none``. The two are not
added: a dense cosine and a probability are on different scales (adding the fused ranking's
``weight x concept`` to the debiased cosine drowned the classifier's "cow, 0.46" under a cut
the dense scale set).

A query whose words name concepts has its dense lines raised, in proportion to the share of
its words that do (its coverage), up to ``Reference.object_cut``: the cut that names of
things the classifier sees nowhere in the collection reach (``search.reference``). Dense
relevance in the bundled space is largely the classifier's own classes seen through their
names, so "a violin" scores high on a photo whose classes merely lie near it; where the
route can say what the words mean, the classifier's probability is the direct evidence and
the dense route must beat what absent things reach. Queries without concept words (letter
salad, prose, "a pagoda") keep the null-query cut, which is what those nulls are like.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float32]
CONCEPT_MATCH = 0.125  # concept evidence for a (weak) match; chosen on the tuning half (docs)
CONCEPT_STRONG = 0.5  # the classifier finds it more likely than not


class Match(StrEnum):
    """How well one candidate matches a query, on the calibrated relevance scale."""

    STRONG = "strong"
    WEAK = "weak"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Reference:
    """A collection's calibration: the two debiasing axes (unit vectors, or None when unused),
    the dense cut and strong-match line, the null queries' relevance values, the concept
    evidence lines, and the dense cut of a query made of concept words (``object_cut``, from
    object nulls: names of things the classifier sees nowhere in the collection; None without
    a concept route)."""

    query_axis: Vector | None
    item_axis: Vector | None
    cut: float
    null_values: tuple[float, ...] = ()
    strong: float = math.inf
    concept_cut: float = CONCEPT_MATCH
    concept_strong: float = CONCEPT_STRONG
    object_cut: float | None = None
    object_values: tuple[float, ...] = ()

    def raise_by(self, named: float) -> float:
        """How far the dense lines rise for a query whose share ``named`` (its concept
        coverage, 0 without concepts) of content words name concepts: that share of the way
        from ``cut`` up to ``object_cut`` (never down)."""
        if self.object_cut is None or named <= 0.0:
            return 0.0
        return min(1.0, named) * max(0.0, self.object_cut - self.cut)

    def match(self, value: float, concept: float = 0.0, *, named: float = 0.0) -> Match:
        """``strong`` when dense ``value`` is above ``strong`` or ``concept`` evidence reaches
        ``concept_strong``; ``weak`` above ``cut`` or from ``concept_cut``; else ``none``. The
        dense lines rise by ``raise_by(named)``."""
        lift = self.raise_by(named)
        if value > self.strong + lift or concept >= self.concept_strong:
            return Match.STRONG
        if value > self.cut + lift or concept >= self.concept_cut:
            return Match.WEAK
        return Match.NONE


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
    query: Vector, candidates: Sequence[Vector] | Vector, reference: Reference
) -> list[float]:
    """``debias(q, query_axis) . debias(x_i, item_axis)`` for each candidate."""
    matrix = np.asarray(candidates, dtype=np.float32)
    if matrix.size == 0:
        return []
    q = debias(query.reshape(-1), reference.query_axis)
    x = debias(matrix.reshape(-1, q.shape[0]), reference.item_axis)
    return [float(v) for v in x @ q]


def relevance(query: Vector, candidates: Sequence[Vector] | Vector, reference: Reference) -> float:
    """``max_i`` of ``relevances`` (-inf without candidates)."""
    return max(relevances(query, candidates, reference), default=-math.inf)
