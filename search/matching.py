"""Matches first: judge a calibrated query's candidates and rank its matching groups ahead.

A text query's best ``Calibrator.top_k`` candidates (by raw or fused score: the *window*) are
judged one by one (``Reference.match`` of their ``relevances`` and concept evidence):
``strong``, ``weak`` or ``none``. Groups
(after duplicate folding) take their leader's match; candidates beyond the window are
``none``. The groups are then stably partitioned: matching groups first, then the rest, each
in raw-score order. The window is the first ``top_k`` candidates whatever page is asked
(``fetch_page`` always fetches at least that many from rank 0), so the partition, and so
paging, is the same for every page.

``total`` counts the matching groups; ``capped`` says the window was full and its last quarter
still held a match, so more matches may lie beyond it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from loupe.search.dedupe import Group
from loupe.search.index.base import SEMANTIC, Hit
from loupe.search.relevance import Match, Reference, relevances


@dataclass(frozen=True, slots=True)
class Judged:
    groups: list[Group]  # matching groups first
    matches: dict[str, Match]  # leader id -> its match
    total: int
    capped: bool


def judge(
    reference: Reference,
    *,
    top_k: int,
    using: str = SEMANTIC,
    query: NDArray[np.float32],
    hits: Sequence[Hit],
    groups: Sequence[Group],
    concept: Mapping[str, float] | None = None,
    named: float = 0.0,
) -> Judged:
    """Judge the best ``top_k`` of ``hits`` (best first, carrying their ``using`` vectors:
    the space ``query`` was searched in) against ``reference`` and order ``groups`` (matching
    groups first). ``concept``: hit id → its
    concept evidence (``search.fusion.concept_evidence``); ``named``: the share of the query's
    words that name concepts (its coverage; 0 without concepts), which raises the dense lines
    (``Reference.match``)."""
    window = [(h.id, h.vectors[using]) for h in hits[:top_k] if h.vectors and using in h.vectors]
    values = relevances(query, [v for _, v in window], reference)
    evidence = [(concept or {}).get(hit_id, 0.0) for hit_id, _ in window]
    verdicts = [reference.match(v, c, named=named) for v, c in zip(values, evidence, strict=True)]
    by_id = {hit_id: m for (hit_id, _), m in zip(window, verdicts, strict=True)}
    matches = {g.leader.id: by_id.get(g.leader.id, Match.NONE) for g in groups}
    first = [g for g in groups if matches[g.leader.id] is not Match.NONE]
    rest = [g for g in groups if matches[g.leader.id] is Match.NONE]
    tail = verdicts[top_k * 3 // 4 :]
    capped = len(verdicts) == top_k and any(m is not Match.NONE for m in tail)
    return Judged(first + rest, matches, len(first), capped)
