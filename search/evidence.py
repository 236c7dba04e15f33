"""Late fusion of what the enrichers saw into a text search: the words of a query that an
image's payload can vouch for (text read in it, objects, people, colours, night, black and
white) lift that image's score.

``evidence_plan.plan`` turns a query into ``Evidence``: each a payload filter and a weight. The
service runs one extra nearest-neighbour search per piece of evidence (``searches``),
restricted to the images that hold it (so they are candidates even when the dense route ranks
them far down), merges them with the dense candidates, and ranks by ``fused = cosine + Σ weight
of the evidence a hit holds`` (``fuse``). Each hit then says which evidence it held (``Seen``):
the line of text it read, the objects or colours it shows. A hit that holds what a photo shows
matches at least weakly (``promote``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from loupe.search.attributes import TEXT_CHARACTERS, TEXT_WORDS
from loupe.search.dedupe import Group, fold
from loupe.search.evidence_plan import MAX_TEXT_WORDS, Evidence
from loupe.search.index.base import Filter, Hit, Search
from loupe.search.index.python_filters import matches
from loupe.search.matching import Judged
from loupe.search.paging import PageRequest, vector_names
from loupe.search.query import Seen
from loupe.search.relevance import Match
from loupe.search.text_grams import normalise


def restricted(base: Filter | None, evidence: Evidence) -> Filter:
    """``base`` AND the evidence's condition (both are conjunctions of disjoint parts)."""
    extra = evidence.flt
    if base is None:
        return extra
    return replace(
        base,
        equals={**base.equals, **extra.equals},
        any_of={**base.any_of, **extra.any_of},
        all_of={
            k: [*base.all_of.get(k, []), *extra.all_of.get(k, [])]
            for k in {*base.all_of, *extra.all_of}
        },
        ranges={**base.ranges, **extra.ranges},
    )


def _line(payload: dict[str, Any], word: str) -> str | None:
    """The line read that holds ``word`` (or, for a query asking for any writing, the first)."""
    enrich = payload.get("enrich")
    lines = [x for x in (enrich.get("text_lines") if isinstance(enrich, dict) else None) or []]
    texts = [str(x.get("text", "")) for x in lines if isinstance(x, dict)]
    for text in texts:
        if normalise(word) in normalise(text):
            return text
    asks = word in TEXT_WORDS or word in TEXT_CHARACTERS
    return texts[0] if texts and asks else None  # writing: what it reads


def seen_by(hit: Hit, evidence: Sequence[Evidence]) -> list[Seen]:
    """The evidence ``hit``'s payload holds."""
    held: list[Seen] = []
    for piece in evidence:
        if matches(hit.id, hit.payload, piece.flt):
            reads = piece.kind in ("text", "writing")
            detail = _line(hit.payload, piece.value) if reads else None
            held.append(Seen(piece.kind, piece.value, detail))
    return held


def boost(held: Sequence[Seen], evidence: Sequence[Evidence]) -> float:
    weights = {(e.kind, e.value): e.weight for e in evidence}
    text = [weights[(s.kind, s.value)] for s in held if s.kind == "text"][:MAX_TEXT_WORDS]
    other = [weights[(s.kind, s.value)] for s in held if s.kind != "text"]
    return sum(text) + sum(other)


def fuse(
    dense: Sequence[Hit], extra: Sequence[Hit], evidence: Sequence[Evidence]
) -> tuple[list[Hit], dict[str, list[Seen]]]:
    """Dense candidates and the evidence searches' hits, once each, ranked by fused score
    (the hit's ``score`` becomes it), and what each hit held."""
    merged: dict[str, Hit] = {}
    for hit in [*dense, *extra]:
        merged.setdefault(hit.id, hit)
    held = {hit_id: seen_by(hit, evidence) for hit_id, hit in merged.items()}
    fused = [
        replace(hit, score=hit.score + boost(held[hit.id], evidence)) for hit in merged.values()
    ]
    fused.sort(key=lambda h: (-h.score, h.id))
    return fused, {k: v for k, v in held.items() if v}


EVIDENCE_K = 64  # candidates fetched per piece of evidence


def searches(request: PageRequest, evidence: Sequence[Evidence]) -> list[Search]:
    """One search per piece of evidence: the query's best ``EVIDENCE_K`` among the points that
    hold it (asked in the same batch as the page's candidates, ``fetch_page(alongside=)``)."""
    return [
        Search(
            request.vector,
            request.using,
            restricted(request.flt, piece),
            EVIDENCE_K,
            score_threshold=request.score_threshold,
            with_vectors=vector_names(request),
        )
        for piece in evidence
    ]


def gather(
    request: PageRequest,
    dense: Sequence[Hit],
    found: Sequence[Sequence[Hit]],
    evidence: Sequence[Evidence],
    *,
    duplicate_threshold: float,
    text_duplicate_threshold: float,
    folded: Sequence[Group] | None = None,
) -> tuple[list[Hit], list[Group], dict[str, list[Seen]]]:
    """The dense candidates fused with what each piece of evidence's search ``found``
    (``searches``): (candidates by fused score, their groups, what each held). ``folded``: the
    groups of ``dense``, kept when no candidate holds any evidence and the order stands (no
    second folding)."""
    extra = [hit for hits in found for hit in hits]
    hits, held = fuse(dense, extra, evidence)
    if folded is not None and not held and [h.id for h in hits] == [h.id for h in dense]:
        return list(dense), list(folded), held
    if request.collapse:
        groups = fold(hits, threshold=duplicate_threshold, text_threshold=text_duplicate_threshold)
    else:
        groups = [Group(hit) for hit in hits]
    return hits, groups, held


# Evidence that says what a photo shows: the query's own words read in it, writing where the
# query asks for some ("printed text", 路牌), an object or people it names. Holding one makes a
# hit a (weak) match. A colour or night lifts a hit's rank only: a third of a library is "red",
# and on the relevance bench's collections (``loupe bench relevance --enrichers
# ocr,faces,colour``) 11 of the 156 matches that colour or night alone made were right.
MATCHING_KINDS = frozenset({"text", "writing", "object"})


def promote(judged: Judged, groups: Sequence[Group], held: dict[str, list[Seen]]) -> Judged:
    """A group whose leader holds evidence of a ``MATCHING_KINDS`` kind matches at least
    weakly; matching groups first."""
    named = {gid for gid, seen in held.items() if any(s.kind in MATCHING_KINDS for s in seen)}
    matches = {
        gid: (Match.WEAK if m is Match.NONE and gid in named else m)
        for gid, m in judged.matches.items()
    }
    first = [g for g in groups if matches.get(g.leader.id, Match.NONE) is not Match.NONE]
    rest = [g for g in groups if matches.get(g.leader.id, Match.NONE) is Match.NONE]
    return replace(judged, groups=first + rest, matches=matches, total=len(first))
