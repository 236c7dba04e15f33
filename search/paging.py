"""One page of a ranking, with exact pagination whether duplicate folding is on or off.

``fetch_page`` always fetches candidates from rank 0: ``offset + 3·limit + 1`` at first with
folding (``offset + limit + 1`` without), growing while folding leaves fewer than
``offset + limit + 1`` leaders and the index has more, up to ``max_candidates``. Each step at
least doubles the fetch, more when folding is heavy: it extrapolates the candidates needed from
the leaders per candidate so far (x1.5), so in a collection full of near-copies a page takes
two or three fetches instead of six (31, 62, ... 1000). It returns the candidates (for the best
score) and the groups; the page is groups ``[offset, offset + limit)`` and there is a next page
when more groups than ``offset + limit`` were found. Leaders of a prefix
are a prefix of the leaders (``search.dedupe``), so consecutive pages never repeat or skip.
A ``duplicates`` list holds the near-duplicates among the candidates fetched for that page.
With ``calibration_k`` the first fetch is at least that many candidates and carries vectors, so
``search.calibration`` can judge the query without another search.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from loupe.search.concepts import ConceptQuery
from loupe.search.dedupe import DEFAULT_TEXT_THRESHOLD, Group, fold
from loupe.search.fusion import fused_hits, fused_searches, joined, lacking
from loupe.search.index.base import SEMANTIC, VISUAL, Filter, Hit, Search, VectorIndex
from loupe.search.query import ResultHit, Why


@dataclass(frozen=True, slots=True)
class PageRequest:
    vector: NDArray[np.float32]
    using: str
    flt: Filter | None
    limit: int
    offset: int
    score_threshold: float | None
    collapse: bool
    with_vectors: bool
    calibration_k: int = 0  # fetch at least this many candidates, with vectors, to calibrate
    concepts: ConceptQuery | None = None  # fuse the concept route in (search.fusion)
    concept_weight: float = 0.0
    # (vector name, query vector) calibration judges in, when not (using, vector): a photo
    # query searches ``semantic`` (texts too) but is judged by its ``visual`` likeness
    judge_by: tuple[str, NDArray[np.float32]] | None = None

    @property
    def judged(self) -> tuple[str, NDArray[np.float32]]:
        """The (vector name, query vector) candidates are judged by."""
        return self.judge_by or (self.using, self.vector)


def fetch_page(
    index: VectorIndex,
    collection: str,
    request: PageRequest,
    *,
    duplicate_threshold: float,
    max_candidates: int,
    text_duplicate_threshold: float = DEFAULT_TEXT_THRESHOLD,
    alongside: Sequence[Search] = (),
) -> tuple[list[Hit], list[Group], list[list[Hit]]]:
    """(candidates best first, groups best first) covering at least the requested page, and
    the answers to ``alongside``: searches asked in the same batch as the first fetch (the
    evidence's, ``search.evidence``), so a query costs one round trip to the store, not one
    per search."""
    wanted = request.offset + request.limit + 1
    size = request.offset + 3 * request.limit + 1 if request.collapse else wanted
    size = min(max(size, request.calibration_k), max(max_candidates, wanted))
    vectors = vector_names(request)
    hits, answers = _candidates(index, collection, request, size, vectors, alongside)
    while True:
        if request.collapse:
            groups = fold(
                hits, threshold=duplicate_threshold, text_threshold=text_duplicate_threshold
            )
        else:
            groups = [Group(hit) for hit in hits]
        if len(groups) >= wanted or len(hits) < size or size >= max_candidates:
            return hits, groups, answers
        size = min(next_size(size, len(groups), wanted), max_candidates)
        hits = _grown(index, collection, request, size, vectors, hits)


def _candidates(
    index: VectorIndex,
    collection: str,
    request: PageRequest,
    size: int,
    vectors: bool | tuple[str, ...],
    alongside: Sequence[Search],
) -> tuple[list[Hit], list[list[Hit]]]:
    """The best ``size`` candidates, and the answers to ``alongside``, from one batch."""
    if request.concepts:
        fused = fused_searches(
            request.vector, request.concepts, flt=request.flt, limit=size, with_vectors=vectors
        )
        answers = index.search_batch(collection, [*fused, *alongside])
        hits = fused_hits(
            index,
            collection,
            answers[: len(fused)],
            request.vector,
            request.concepts,
            weight=request.concept_weight,
            limit=size,
            with_vectors=vectors,
            score_threshold=request.score_threshold,
        )
        return hits, answers[len(fused) :]
    dense = Search(
        request.vector,
        request.using,
        request.flt,
        size,
        score_threshold=request.score_threshold,
        with_vectors=vectors,
    )
    answers = index.search_batch(collection, [dense, *alongside])
    return answers[0], answers[1:]


def _grown(
    index: VectorIndex,
    collection: str,
    request: PageRequest,
    size: int,
    vectors: bool | tuple[str, ...],
    known: Sequence[Hit],
) -> list[Hit]:
    """The best ``size`` candidates, each with the vectors ``vectors`` asks, when ``known``
    (the previous fetch, with them) holds the first of them: searched without vectors (the
    concept route keeps what its fused score reads, concepts included), then the candidates
    not in ``known`` retrieved with the vectors named, and those in ``known`` given the ones
    they came with. Each vector fetched costs (the engine hands them over as Python floats):
    a page of near-copies grew to ~440 candidates, refetching all their vectors at each of
    2-3 steps."""
    if not vectors:
        return _candidates(index, collection, request, size, vectors, ())[0]
    hits, _ = _candidates(index, collection, request, size, False, ())
    had = {h.id: h for h in known if h.vectors}
    stored = lacking(index, collection, [h for h in hits if h.id not in had], vectors)
    out = []
    for hit in hits:
        source = had.get(hit.id) or stored.get(hit.id)
        if source is None:  # deleted since it was found: no vectors to fold or judge it by
            continue
        out.append(joined(hit, source))
    return out


def vector_names(request: PageRequest) -> bool | tuple[str, ...]:
    """The vectors a page's candidates must carry: all when the caller wants them; else what
    folding compares (``visual`` of images, ``semantic`` of texts; a ``visual`` search finds
    only images) and calibration reads (the searched vector). Each 1,280-d vector fetched
    costs."""
    if request.with_vectors:
        return True
    names: set[str] = set()
    if request.collapse:
        names |= {VISUAL} if request.using == VISUAL else {SEMANTIC, VISUAL}
    if request.calibration_k > 0:
        names.add(request.judged[0])
    return tuple(sorted(names)) or False


def next_size(size: int, leaders: int, wanted: int) -> int:
    """The next fetch: double, or the candidates that ``wanted`` leaders would need at the fold
    rate seen so far, with half again as margin (folding thins out further down a ranking)."""
    estimate = math.ceil(size * wanted / max(1, leaders) * 1.5)
    return max(size * 2, estimate)


def result_hit(
    group: Group, with_vectors: bool, match: str | None = None, why: list[Why] | None = None
) -> ResultHit:
    """The API-facing hit of a group: its leader, the folded ids, vectors when asked."""
    hit = group.leader
    modality = hit.payload.get("modality")
    return ResultHit(
        id=hit.id,
        score=hit.score,
        modality=modality if isinstance(modality, str) else None,
        payload=hit.payload,
        duplicates=list(group.duplicates),
        vectors=hit.vectors if with_vectors else None,
        match=match,
        why=why or [],
    )
