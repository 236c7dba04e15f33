from __future__ import annotations

import numpy as np

from loupe.search.dedupe import Group
from loupe.search.index.base import SEMANTIC, Hit
from loupe.search.matching import judge
from loupe.search.relevance import CONCEPT_MATCH, CONCEPT_STRONG, Match, Reference

QUERY = np.array([1.0, 0.0, 0.0], dtype=np.float32)
REFERENCE = Reference(None, None, cut=0.5, strong=0.8)


def hit(name: str, cosine: float) -> Hit:
    """A candidate whose semantic vector has ``cosine`` with QUERY (no axes: relevance = it)."""
    vector = np.array([cosine, np.sqrt(1 - cosine**2), 0.0], dtype=np.float32)
    return Hit(name, 0.0, {}, {SEMANTIC: vector})


def test_matching_groups_come_first_in_their_raw_order() -> None:
    hits = [hit("a", 0.3), hit("b", 0.9), hit("c", 0.1), hit("d", 0.6), hit("e", 0.95)]
    groups = [Group(h) for h in hits]
    judged = judge(REFERENCE, top_k=4, query=QUERY, hits=hits, groups=groups)
    assert [g.leader.id for g in judged.groups] == ["b", "d", "a", "c", "e"]
    assert judged.matches == {
        "a": Match.NONE,
        "b": Match.STRONG,
        "c": Match.NONE,
        "d": Match.WEAK,
        "e": Match.NONE,  # beyond the judged window
    }
    assert judged.total == 2
    assert judged.capped, "a match in the last quarter of a full window"


def test_a_group_takes_its_leaders_match_and_no_match_is_not_capped() -> None:
    hits = [hit("a", 0.2), hit("a-copy", 0.9), hit("b", 0.4)]
    groups = [Group(hits[0], ["a-copy"]), Group(hits[2])]
    judged = judge(REFERENCE, top_k=16, query=QUERY, hits=hits, groups=groups)
    assert judged.total == 0
    assert [g.leader.id for g in judged.groups] == ["a", "b"]
    assert not judged.capped


def test_concept_evidence_makes_a_match_on_its_own_scale() -> None:
    # "cow" on a cow photo: the classifier says ox 0.46 while the dense relevance sits under
    # the cut; a probability is not added to a cosine, it is judged against its own lines
    hits = [hit("cow", 0.17), hit("cup", 0.28), hit("ox-ish", 0.1), hit("sure", 0.05)]
    concept = {"cow": 0.46, "cup": 0.0, "ox-ish": CONCEPT_MATCH / 2, "sure": CONCEPT_STRONG}
    judged = judge(
        REFERENCE, top_k=16, query=QUERY, hits=hits, groups=[Group(h) for h in hits],
        concept=concept,
    )  # fmt: skip
    assert judged.matches == {
        "cow": Match.WEAK,
        "cup": Match.NONE,
        "ox-ish": Match.NONE,
        "sure": Match.STRONG,
    }
    assert [g.leader.id for g in judged.groups][:2] == ["cow", "sure"]


def test_a_query_of_concept_words_must_beat_what_absent_things_reach() -> None:
    # object_cut: what names of things the classifier sees nowhere here reach on the dense
    # scale; a query all of concept words is judged against it, a query with none of them
    # against the null-query cut, one half of concept words half-way between
    reference = Reference(None, None, cut=0.5, strong=0.8, object_cut=0.7)
    hits = [hit("a", 0.55), hit("b", 0.65), hit("c", 0.75), hit("d", 0.95)]

    def verdicts(named: float) -> list[Match]:
        judged = judge(
            reference, top_k=16, query=QUERY, hits=hits, groups=[Group(h) for h in hits],
            named=named,
        )  # fmt: skip
        return [judged.matches[h.id] for h in hits]

    assert verdicts(0.0) == [Match.WEAK, Match.WEAK, Match.WEAK, Match.STRONG]
    assert verdicts(0.5) == [Match.NONE, Match.WEAK, Match.WEAK, Match.STRONG]
    assert verdicts(1.0) == [Match.NONE, Match.NONE, Match.WEAK, Match.WEAK]
    # concept evidence is judged on its own lines whatever the dense lines are
    judged = judge(
        reference, top_k=16, query=QUERY, hits=hits[:1], groups=[Group(hits[0])],
        concept={"a": CONCEPT_MATCH}, named=1.0,
    )  # fmt: skip
    assert judged.matches == {"a": Match.WEAK}


def test_object_cut_never_lowers_the_dense_lines() -> None:
    reference = Reference(None, None, cut=0.5, strong=0.8, object_cut=0.3)
    assert reference.raise_by(1.0) == 0.0
    assert reference.match(0.45, named=1.0) is Match.NONE
    assert Reference(None, None, cut=0.5).raise_by(1.0) == 0.0  # no object nulls: no lift
