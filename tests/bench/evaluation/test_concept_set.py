"""The concept set: subjects named from GCompris file names, each in known categories."""

from __future__ import annotations

from loupe.bench.evaluation.concept_set import CATEGORIES, SUBJECTS, subject_of


def test_subject_of_strips_trailing_digits() -> None:
    hammer = subject_of("hammer7")
    assert hammer is not None and hammer.en == "hammer"
    assert subject_of("sideCutter1") is None
    assert {c for s in SUBJECTS for c in s.categories} <= set(CATEGORIES)
