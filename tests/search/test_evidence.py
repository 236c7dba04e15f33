"""Planning a query's evidence and fusing it into a ranking (payloads as ingest writes them)."""

from __future__ import annotations

from typing import Any

import pytest

from loupe.search.evidence import OBJECT_WEIGHT, TEXT_WEIGHT, WRITING_WEIGHT, fuse, plan
from loupe.search.index.base import Hit
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
