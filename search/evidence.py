"""Late fusion of what the enrichers saw into a text search: the words of a query that an
image's payload can vouch for (text read in it, objects, people, colours, night, black and
white) lift that image's score.

``plan`` turns a query into ``Evidence``: each a payload filter and a weight. The service runs
one extra nearest-neighbour search per piece of evidence, restricted to the images that hold it
(so they are candidates even when the dense route ranks them far down), merges them with the
dense candidates, and ranks by ``fused = cosine + Σ weight of the evidence a hit holds``
(``fuse``). Each hit then says which evidence it held (``Seen``): the line of text it read, the
objects or colours it shows. Weights are on the cosine scale of the bundled encoder, where
relevant and irrelevant images of a query sit a few hundredths apart (chosen on the
``loupe eval`` sets, README "Quality").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from loupe.search.attributes import (
    COLOURS_FIELD,
    GRAMS_FIELD,
    OBJECTS_FIELD,
    PEOPLE_FIELD,
    PEOPLE_LABEL,
    TEXT_CHARACTERS,
    TEXT_COUNT_FIELD,
    TEXT_WORDS,
    QueryAttributes,
    query_attributes,
)
from loupe.search.concepts.lexicon import Lexicon
from loupe.search.dedupe import Group, fold
from loupe.search.index.base import Filter, Hit, Range, Search
from loupe.search.index.python_filters import matches
from loupe.search.matching import Judged
from loupe.search.paging import PageRequest, vector_names
from loupe.search.query import Seen
from loupe.search.relevance import Match
from loupe.search.text_grams import normalise, query_grams, word_grams

TEXT_WEIGHT = 0.08  # per query word read in the image (at most MAX_TEXT_WORDS count)
WRITING_WEIGHT = 0.04  # the query asks for writing (a sign, 招牌) and the image holds some
OBJECT_WEIGHT = 0.06
COLOUR_WEIGHT = 0.03
LIGHT_WEIGHT = 0.04
MAX_TEXT_WORDS = 3
MAX_EVIDENCE = 8
NIGHT_FIELD = "enrich.night"
BW_FIELD = "enrich.bw"

# words of a query about text that are not the text itself
# fmt: off
_NOT_TEXT = frozenset([
    "a", "an", "the", "of", "on", "in", "at", "to", "and", "or", "with", "that", "which", "is",
    "are", "it", "its", "this", "there", "for", "by", "from", "says", "say", "saying", "reads",
    "read", "written", "sign", "signs", "text", "word", "words", "letters", "letter", "photo",
    "picture", "image", "shop", "store", "board", "label",
])
# fmt: on
_LATIN = re.compile(r"[0-9a-z][0-9a-z'&.-]*")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2,}")
_QUOTED = re.compile(r"[\"“”'‘’「」『』](.+?)[\"“”'‘’「」『』]")


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: str  # text | object | colour | light
    value: str
    flt: Filter
    weight: float


def _text_words(query: str) -> list[str]:
    text = normalise(query)
    quoted = [normalise(q) for q in _QUOTED.findall(query)]
    words = [w.strip("'.-&") for w in _LATIN.findall(text)]
    words = [w for w in words if len(w) >= 2 and w not in _NOT_TEXT]
    runs: list[str] = []
    for run in _CJK_RUN.findall(text):
        runs.append(run)
        runs += [w for w in _segments(run) if len(w) >= 2 and w != run]
    found = [q for q in quoted if q] + words + runs
    return [w for w in dict.fromkeys(found) if w not in TEXT_WORDS and w not in TEXT_CHARACTERS]


def _segments(run: str, *, hmm: bool = True) -> list[str]:
    """Words of a run of Chinese characters (jieba's process-wide tokenizer: ``warm``); without
    ``hmm``, only its dictionary's words (有字的墙: 有, 字, 的, 墙; with it, 有字 is one)."""
    import jieba

    return [str(w) for w in jieba.cut(run, HMM=hmm)]


def warm() -> None:
    """Load jieba's dictionary (~1 s) and the shared lexicon (~0.4 s) now, at start-up: the
    first Chinese query of a server stalled ~1.4 s loading jieba (py-spy, during a bulk job)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.dt.initialize()
    Lexicon.shared()


def objects_named(query: str, attributes: QueryAttributes) -> list[str]:
    """The object labels ``query`` names (its ``attributes``), with "person" also where the
    words that name a kind of person ("astronaut", "a doctor", 宇航员: ``Lexicon.person_words``,
    from WordNet and CC-CEDICT) make at least half of its content words: "astronauts on the
    moon" asks for people, "git rebase onto another branch" (a git is a person) does not. The
    attribute tables' own person words (person, man, woman, child...) count wherever they are."""
    objects = attributes.objects
    if PEOPLE_LABEL in objects:
        return objects
    lexicon = Lexicon.shared()
    named = sum(len(word.split()) for word in lexicon.person_words(query))
    if named and 2 * named >= len(lexicon.content_words(query)):
        objects = [*objects, PEOPLE_LABEL]
    return objects


def _asks_for_text(query: str) -> str | None:
    """The word by which ``query`` asks for writing in the image (sign, 招牌, 字), if any."""
    text = normalise(query)
    latin = set(_LATIN.findall(text))
    for word in TEXT_WORDS:
        if (word in latin) if word.isascii() else (word in text):
            return word
    if any(c in text for c in TEXT_CHARACTERS):
        words = {w for run in _CJK_RUN.findall(text) for w in _segments(run, hmm=False)}
        return next((c for c in TEXT_CHARACTERS if c in words), None)
    return None


def plan(query: str) -> list[Evidence]:
    """The evidence a text query asks for, strongest first, at most MAX_EVIDENCE."""
    found: list[Evidence] = []
    for word in _text_words(query):
        cjk = bool(_CJK_RUN.fullmatch(word))
        grams = query_grams(word) if cjk or " " in word else word_grams(word)
        if grams:
            flt = Filter(all_of={GRAMS_FIELD: list(grams)})
            found.append(Evidence("text", word, flt, TEXT_WEIGHT))
    asks_text = _asks_for_text(query)
    if asks_text:
        flt = Filter(ranges={TEXT_COUNT_FIELD: Range(gte=1)})
        found.append(Evidence("writing", asks_text, flt, WRITING_WEIGHT))
    attributes = query_attributes(query)
    for label in objects_named(query, attributes):
        if label == PEOPLE_LABEL:
            flt = Filter(ranges={PEOPLE_FIELD: Range(gte=1)})
        else:
            flt = Filter(all_of={OBJECTS_FIELD: [label]})
        found.append(Evidence("object", label, flt, OBJECT_WEIGHT))
    for colour in attributes.colours:
        found.append(
            Evidence("colour", colour, Filter(any_of={COLOURS_FIELD: [colour]}), COLOUR_WEIGHT)
        )
    if attributes.night:
        found.append(Evidence("light", "night", Filter(equals={NIGHT_FIELD: True}), LIGHT_WEIGHT))
    if attributes.bw:
        found.append(
            Evidence("light", "black and white", Filter(equals={BW_FIELD: True}), LIGHT_WEIGHT)
        )
    return found[:MAX_EVIDENCE]


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
