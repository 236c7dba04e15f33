"""Planning a query's evidence (``evidence_plan``) and fusing it into a ranking (``evidence``;
payloads as ingest writes them)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from loupe.search.dedupe import Group
from loupe.search.evidence import fuse, gather, promote, searches
from loupe.search.evidence_plan import OBJECT_WEIGHT, TEXT_WEIGHT, WRITING_WEIGHT, plan
from loupe.search.index.base import SEMANTIC, Hit, Point
from loupe.search.index.memory_store import NumpyIndex
from loupe.search.matching import Judged
from loupe.search.paging import PageRequest, fetch_page
from loupe.search.query import Seen
from loupe.search.relevance import Match
from loupe.search.text_grams import index_grams


def _hit(hit_id: str, score: float, *, text: str = "", people: int = 0) -> Hit:
    enrich: dict[str, Any] = {
        "text": text,
        "text_lines": [{"text": text}] if text else [],
        "text_grams": index_grams(text),
        "text_count": 1 if text else 0,
        "people": people,
        "objects": [],
        "colours": [],
    }
    return Hit(hit_id, score, {"enrich": enrich})


def test_plan_finds_words_to_read_objects_colours_and_light() -> None:
    kinds = {(e.kind, e.value) for e in plan("a sign that says FOR SALE on a blue bus at night")}
    assert ("text", "sale") in kinds and ("text", "sign") not in kinds
    assert {("object", "bus"), ("colour", "blue"), ("light", "night")} <= kinds
    assert ("text", "出口") in {(e.kind, e.value) for e in plan("出口在哪里")}
    assert ("object", "person") in {(e.kind, e.value) for e in plan("two women")}


@pytest.mark.parametrize(
    "query", ["an astronaut", "astronauts on the moon", "a photo of a firefighter", "宇航员"]
)
def test_a_word_for_a_kind_of_person_asks_for_people(query: str) -> None:
    evidence = [e for e in plan(query) if e.kind == "object"]
    assert [e.value for e in evidence] == ["person"]
    assert evidence[0].flt.ranges["enrich.people"].gte == 1


@pytest.mark.parametrize(
    "query", ["a tiger", "git rebase onto another branch", "plarg snoot vrim", "一只猫"]
)
def test_a_person_word_that_is_a_small_part_of_a_query_or_not_a_person_asks_nothing(
    query: str,
) -> None:
    assert not [e for e in plan(query) if e.kind == "object"]


def test_fuse_lifts_hits_holding_evidence_by_their_weights() -> None:
    evidence = plan("a woman by the EXIT")
    dense = [
        _hit("a", 0.90),
        _hit("b", 0.88, text="EXIT 4"),
        _hit("c", 0.86, people=2),
        _hit("d", 0.85, text="EXITS"),  # not the word exit
    ]
    fused, held = fuse(dense, [], evidence)
    assert [h.id for h in fused] == ["b", "c", "a", "d"]
    assert fused[0].score == pytest.approx(0.88 + TEXT_WEIGHT)
    assert fused[1].score == pytest.approx(0.86 + OBJECT_WEIGHT)
    assert held["b"][0].detail == "EXIT 4"
    assert "d" not in held and "a" not in held


def test_extra_candidates_join_once() -> None:
    evidence = plan("EXIT")
    fused, _ = fuse([_hit("a", 0.9)], [_hit("a", 0.9), _hit("z", 0.5, text="exit")], evidence)
    assert [h.id for h in fused] == ["a", "z"]


def test_a_query_asking_for_writing_lifts_any_image_with_text() -> None:
    evidence = plan("a street sign")
    assert ("writing", "sign") in {(e.kind, e.value) for e in evidence}
    assert ("text", "sign") not in {(e.kind, e.value) for e in evidence}
    assert [(e.kind, e.value) for e in plan("路牌")] == [("writing", "路牌")]
    fused, held = fuse([_hit("a", 0.90), _hit("b", 0.88, text="OPEN 24 HOURS")], [], evidence)
    assert [h.id for h in fused] == ["b", "a"]
    assert fused[0].score == pytest.approx(0.88 + WRITING_WEIGHT)
    assert held["b"][0].detail == "OPEN 24 HOURS"


def test_gather_keeps_the_dense_groups_when_nothing_holds_evidence() -> None:
    """No second folding when no candidate holds any evidence; when one does, it is lifted."""
    index = NumpyIndex()
    index.create_collection("c", model_id="m", dim=2, visual_dim=None)
    rows = ([1, 0], [0.8, 0.6], [0.95, 0.3122])  # 2: cosine 0.95, +0.08 for reading "exit"
    vectors = [np.asarray(v, dtype=np.float32) for v in rows]
    payloads = [{"enrich": {"text_grams": index_grams(t)}} for t in ("", "", "exit")]
    ids = [f"00000000-0000-0000-0000-00000000000{i}" for i in range(3)]
    points = zip(ids, vectors, payloads, strict=True)
    index.upsert("c", [Point(i, {SEMANTIC: v}, p) for i, v, p in points])
    request = PageRequest(
        vector=vectors[0], using=SEMANTIC, flt=None, limit=3, offset=0,
        score_threshold=None, collapse=True, with_vectors=False,
    )  # fmt: skip

    def run(
        query: str,
    ) -> tuple[list[Hit], list[Group], list[Hit], list[Group], dict[str, list[Seen]]]:
        evidence = plan(query)
        dense, groups, found = fetch_page(
            index, "c", request, duplicate_threshold=0.99, max_candidates=10,
            alongside=searches(request, evidence),
        )  # fmt: skip
        assert len(found) == len(evidence)  # each piece's search was asked with the page's
        hits, fused, held = gather(
            request, dense, found, evidence,
            duplicate_threshold=0.99, text_duplicate_threshold=0.99, folded=groups,
        )  # fmt: skip
        return dense, groups, hits, fused, held

    dense, groups, hits, same, held = run("a cat")
    assert held == {} and same == groups and same[0] is groups[0] and hits == dense
    *_, lifted, held = run("the EXIT")
    assert list(held) == [ids[2]] and lifted[0].leader.id == ids[2]


def test_what_a_photo_shows_makes_a_match_a_colour_or_night_only_lifts_it() -> None:
    """Text read, writing asked for, objects and people make a hit a weak match; a colour or
    night alone does not (half a library is "red")."""
    held_by = {
        "text": Seen("text", "exit", "EXIT 4"),
        "writing": Seen("writing", "sign", "OPEN"),
        "object": Seen("object", "person", None),
        "colour": Seen("colour", "red", None),
        "light": Seen("light", "night", None),
        "judged": None,
    }
    groups = [Group(_hit(name, 0.9 - i / 100)) for i, name in enumerate(held_by)]
    judged = Judged(groups, {g.leader.id: Match.NONE for g in groups}, total=0, capped=False)
    judged.matches["judged"] = Match.STRONG
    held = {name: [seen] for name, seen in held_by.items() if seen is not None}
    promoted = promote(judged, groups, held)
    weak = {"text", "writing", "object"}
    assert promoted.matches == {
        **{name: Match.WEAK for name in weak},
        "colour": Match.NONE,
        "light": Match.NONE,
        "judged": Match.STRONG,
    }
    assert [g.leader.id for g in promoted.groups][:4] == ["text", "writing", "object", "judged"]
    assert promoted.total == 4


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ("写着字的牌子", "牌子"),
        ("有字的墙", "字"),
        ("手写字", "手写"),
        ("handwriting", "handwriting"),
        ("金字塔", None),  # a pyramid
        ("字符串", None),  # a string
        ("写字用的铅笔", None),  # a pencil to write with
        ("a pencil for writing", None),
    ],
)
def test_a_query_asks_for_writing_by_a_word_not_by_a_character_inside_one(
    query: str, word: str | None
) -> None:
    asked = [e.value for e in plan(query) if e.kind == "writing"]
    assert asked == ([word] if word else [])
