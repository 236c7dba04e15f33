"""What a text query asks of the enrichers' fields: ``plan`` turns it into ``Evidence``, each a
payload filter and a weight (``search.evidence`` fuses it into the ranking).

A query asks for the words it names read in an image (whole words; Chinese runs and their jieba
words), for any writing ("a street sign", 路牌, 写着字的牌子), for objects and people (the
attribute tables, and any word for a kind of person: ``objects_named``), colours, night and
black and white. Weights are on the cosine scale of the bundled encoder, where relevant and
irrelevant images of a query sit a few hundredths apart (chosen on the ``loupe eval`` sets,
README "Quality").
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

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
from loupe.search.index.base import Filter, Range
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
