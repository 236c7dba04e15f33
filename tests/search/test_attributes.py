"""``search.attributes.query_attributes``: the objects, colours and light a query names, in
English words (and word pairs) and Chinese substrings, as the enrichers' labels."""

from __future__ import annotations

from loupe.search.attributes import QueryAttributes, query_attributes


def test_english_words_and_pairs_name_labels() -> None:
    assert query_attributes("A Blue BUS at night") == QueryAttributes(
        objects=["bus"], colours=["blue"], night=True
    )
    assert query_attributes("a traffic light").objects == ["traffic light"]  # a word pair
    assert query_attributes("kids on a bike").objects == ["person", "bicycle"]  # synonyms
    assert query_attributes("a gray puppy").colours == ["grey"]
    assert query_attributes("a busy street") == QueryAttributes()  # "bus" inside a word


def test_a_longer_name_wins_over_the_names_inside_it() -> None:
    assert query_attributes("a teddy bear").objects == ["teddy bear"]  # not a bear too
    assert query_attributes("a hot dog on a plate").objects == ["hot dog"]
    assert query_attributes("a dog and a bear").objects == ["dog", "bear"]  # in query order
    assert query_attributes("a bear next to a teddy bear").objects == ["bear", "teddy bear"]
    assert query_attributes("单板滑雪板").objects == ["snowboard"]  # not 滑雪板, skis, too
    assert query_attributes("滑雪板和单板滑雪板").objects == ["skis", "snowboard"]


def test_chinese_substrings_name_labels_but_one_character_names_do_not() -> None:
    found = query_attributes("人行道上的红色汽车")
    assert (found.objects, found.colours) == (["car"], ["red"])  # 人 of 人行道 is no person
    assert query_attributes("雪地里的狗").objects == []  # 狗 alone: an exact filter value only
    assert query_attributes("夜景").night


def test_black_and_white_is_no_colour() -> None:
    found = query_attributes("a black and white photo of a white cat")
    assert found.bw and found.colours == [] and found.objects == ["cat"]
    assert query_attributes("a white cat").colours == ["white"]


def test_an_empty_query_asks_nothing() -> None:
    assert query_attributes("a photo").is_empty()
    assert not QueryAttributes(bw=True).is_empty()
