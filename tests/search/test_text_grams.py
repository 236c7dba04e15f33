"""``search.text_grams``: a text is found by a substring or a whole word when the query's grams
are all among the text's stored grams, for Latin and CJK alike, after normalising both."""

from __future__ import annotations

from loupe.search.text_grams import (
    GRAM,
    MAX_GRAMS,
    contains,
    index_grams,
    normalise,
    query_grams,
    word_grams,
)


def _found(text: str, grams: list[str]) -> bool:
    stored = set(index_grams(text))
    return bool(grams) and set(grams) <= stored


def test_normalise_folds_width_case_and_spaces() -> None:
    assert normalise("  ＲＥ16\tTGK\n  Exit ") == "re16 tgk exit"


def test_a_substring_is_found_and_another_is_not() -> None:
    assert _found("Platform RE16TGK", query_grams("re16"))
    assert _found("中山路出口", query_grams("中山"))
    assert _found("中山路出口", query_grams("路"))  # shorter than a gram: its own size
    assert not _found("Platform RE16TGK", query_grams("re17"))
    assert contains("Platform RE16TGK", "re16") and not contains("Platform", "re16")


def test_a_whole_word_is_found_but_not_inside_another_word() -> None:
    assert _found("a cat sat", word_grams("Cat"))
    assert _found("cat", word_grams("cat"))  # at the start and the end of the text
    assert not _found("location", word_grams("cat"))
    assert word_grams("  ") == [] and query_grams("") == []


def test_index_grams_are_every_gram_up_to_three_once_and_capped() -> None:
    grams = index_grams("abab")
    assert len(grams) == len(set(grams))
    assert {"a", "b", "ab", "ba", "aba", "bab", " a", "b ", " ab", "ab "} <= set(grams)
    assert all(1 <= len(g) <= GRAM and g.strip() for g in grams)
    assert index_grams("") == []
    long = "".join(chr(0x4E00 + i) for i in range(3000))  # about 9,000 different grams
    assert len(index_grams(long)) == MAX_GRAMS
