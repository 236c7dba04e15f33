"""Answering one planned query: fetch a page, fuse evidence, judge matches, build the result;
and reading an item's stored vectors (the query vector of "more like this" and image ids).

``answer`` is the last step of every ``SearchService`` query with a vector: ``fetch_page``
(candidates from rank 0, folded, paged: ``search.paging``), then for text queries the
enrichers' evidence (``search.evidence``), and the calibrated judgement of text, photo and
"more like this" queries (``search.matching``: matches first, ``total_matches``,
``no_good_match``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from loupe.search.calibration import Calibrator, Match
from loupe.search.concepts import ConceptRoute
from loupe.search.encoders.base import Encoder
from loupe.search.errors import NotFound
from loupe.search.evidence import gather, promote
from loupe.search.evidence import searches as evidence_searches
from loupe.search.evidence_plan import Evidence
from loupe.search.fusion import concept_evidence, why
from loupe.search.index.base import SEMANTIC, TENANT_FIELD, VectorIndex
from loupe.search.matching import judge
from loupe.search.paging import PageRequest, fetch_page, result_hit
from loupe.search.query import SearchResult, Seen

Vector = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Live:
    """The (encoder, collection) pair the service answers from."""

    encoder: Encoder
    collection: str
    has_visual: bool


def item_vectors(
    index: VectorIndex, live: Live, item_id: str, *, tenant: str | None
) -> dict[str, Vector]:
    """The stored vectors of ``item_id`` (NotFound if none, or if it is not ``tenant``'s)."""
    found = index.retrieve(live.collection, [item_id], with_vectors=True)
    if found and tenant is not None and found[0].payload.get(TENANT_FIELD) != tenant:
        found = []  # another tenant's item does not exist for this one
    vectors = found[0].vectors if found else None
    if not vectors or SEMANTIC not in vectors:
        raise NotFound(f"no item with id {item_id!r}")
    return vectors


@dataclass(frozen=True, slots=True)
class Folding:
    """How candidates are fetched and folded (``search.paging.fetch_page``)."""

    duplicate_threshold: float
    text_duplicate_threshold: float
    max_candidates: int


def answer(
    index: VectorIndex,
    live: Live,
    plan: PageRequest,
    *,
    calibrator: Calibrator,
    folding: Folding,
    space: str | None,
    started: float,
    evidence: Sequence[Evidence] = (),
    route: ConceptRoute | None = None,
) -> SearchResult:
    """The page ``plan`` asks for from ``live``; ``space``: judge matches against the
    calibration of that space (``search.calibration``; None: not judged);
    ``started``: the call's ``time.perf_counter()`` at entry, for ``took_ms``."""
    hits, groups, found = fetch_page(
        index,
        live.collection,
        plan,
        duplicate_threshold=folding.duplicate_threshold,
        text_duplicate_threshold=folding.text_duplicate_threshold,
        max_candidates=folding.max_candidates,
        alongside=evidence_searches(plan, evidence),
    )
    held: dict[str, list[Seen]] = {}
    if evidence:
        hits, groups, held = gather(
            plan,
            hits,
            found,
            evidence,
            duplicate_threshold=folding.duplicate_threshold,
            text_duplicate_threshold=folding.text_duplicate_threshold,
            folded=groups,
        )
    more = len(groups) > plan.offset + plan.limit
    judged = None
    if space is not None:
        using, vector = plan.judged
        judged = judge(
            calibrator.reference(live.collection, live.encoder, space),
            top_k=calibrator.top_k,
            using=using,
            query=vector,
            hits=hits,
            groups=groups,
            concept=concept_evidence(plan.concepts, hits),
            named=plan.concepts.coverage if plan.concepts else 0.0,
        )
        judged = promote(judged, groups, held) if held else judged
        groups = judged.groups
    matches: dict[str, Match] = judged.matches if judged else {}
    total = judged.total if judged else None
    page = groups[plan.offset : plan.offset + plan.limit]
    return SearchResult(
        hits=[
            replace(
                result_hit(g, plan.with_vectors, matches.get(g.leader.id)),
                seen=held.get(g.leader.id, []),
                why=why(route, plan.concepts, g.leader) if route and plan.concepts else [],
            )
            for g in page
        ],
        took_ms=(time.perf_counter() - started) * 1000.0,
        model_id=live.encoder.model_id,
        next_offset=plan.offset + plan.limit if more else None,
        no_good_match=not hits or total == 0,
        total_matches=total,
        matches_capped=judged.capped if judged else False,
        total=index.count(live.collection, plan.flt) if plan.offset == 0 else None,
    )
