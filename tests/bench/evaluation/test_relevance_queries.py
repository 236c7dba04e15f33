from __future__ import annotations

from loupe.bench.evaluation.relevance_queries import (
    held_out,
    keyboard_mash,
    language,
    nonsense,
    random_strings,
    right_answers,
)
from loupe.search.null_queries import NULL_QUERIES


def test_nonsense_families_are_fixed_and_never_a_null_or_a_real_query() -> None:
    found = nonsense()
    assert found == nonsense() and random_strings() == random_strings()
    assert keyboard_mash() == keyboard_mash()
    families = {family for _, family in found}
    assert families == {"prose", "random", "mash", "no photo"}
    texts = [text for text, _ in found]
    assert len(texts) == len(set(texts))
    assert not set(texts) & set(NULL_QUERIES)
    assert not set(texts) & set(right_answers(with_mnist=True))
    assert {language(t) for t, family in found if family == "no photo"} == {"en", "zh"}


def test_the_halves_split_by_text_and_hold_both_languages() -> None:
    texts = [text for text, _ in nonsense()] + list(right_answers(with_mnist=True))
    held = [t for t in texts if held_out(t)]
    assert 0.35 < len(held) / len(texts) < 0.65
    assert {language(t) for t in held} == {"en", "zh"}
    assert all(held_out(t) == held_out(t) for t in texts)
