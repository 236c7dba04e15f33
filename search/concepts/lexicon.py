"""The shipped word → concept bridge (``search/data/concepts.json.gz``, built by
``scripts/build_concepts.py`` from WordNet 3.0 and CC-CEDICT) and the query-side word finding.

English: lower-cased word runs; the longest run of up to ``MAX_PHRASE`` words that is a WordNet
noun lemma wins ("sports car", "golden retriever"), with WordNet's noun morphology on the last
word (exceptions such as "mice", then the detachment rules: "cars", "boxes", "puppies").
Chinese: ``jieba`` segments runs of CJK characters; a segment in CC-CEDICT's noun glosses gives
its English lemmas; an unknown segment that starts with a numeral and a measure word (一朵花) is
looked up without them; any other unknown segment is searched for the longest known words of
two or more characters inside it.
Function words of either language (a small closed list) never become concepts.

``person_words`` finds the words that name a kind of person ("astronaut", "doctors", 宇航员),
from the bridge's ``people`` and ``zh_people`` (see ``scripts/build_concepts.py``).
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections.abc import Container
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

DATA_FILE = "data/concepts.json.gz"
MAX_PHRASE = 4
_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# A run of Chinese with Latin letters glued before it: CC-CEDICT has T恤 (T-shirt), X光 (X-ray)
_MIXED = re.compile(r"[A-Za-z]*[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
DETACH = (  # WordNet's noun detachment rules (morph(7WN)): suffix, ending
    ("ses", "s"),
    ("xes", "x"),
    ("zes", "z"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("men", "man"),
    ("ies", "y"),
    ("s", ""),
)
# Closed-class words that WordNet also lists as nouns ("a" = vitamin A, "in" = inch, ...).
_EN_STOP_WORDS = (
    "a an the and or but of on in at to for by from with without into onto over under near "
    "some any this that these those it its is are be been being was were my your our their his "
    "her i me we you he she they them us one no not as so very"
)
EN_STOP = frozenset(_EN_STOP_WORDS.split(" "))
ZH_STOP = frozenset("的了在上下里中和与或是有个只张一两几这那些着过把被从向对很也都又及其之于")
# A numeral or demonstrative and a measure word before a noun (一朵花, 两匹马, 这张桌子): jieba
# sometimes keeps the three as one word, which hides the noun.
ZH_NUMERALS = frozenset("一二两三四五六七八九十几每这那半")
ZH_MEASURES = frozenset(
    "个只条张本朵匹头面页把件辆架棵片座块双对群杯碗瓶盒包根支枝颗粒位名台部间家所艘封首幅顶扇盏层道份串束堆"
)


_SHARED: Lexicon | None = None  # Lexicon.shared()
_SHARED_LOCK = threading.Lock()


def _function_word(segment: str) -> bool:
    """A segment of function characters only (一只), or a numeral and measure words (一匹)."""
    if all(c in ZH_STOP for c in segment):
        return True
    quantity = ZH_NUMERALS | ZH_MEASURES | ZH_STOP
    return segment[0] in ZH_NUMERALS and all(c in quantity for c in segment[1:])


def _quantified(segment: str) -> bool:
    """A numeral and a measure word glued before a noun by jieba (一朵花, 一位医生)."""
    return len(segment) > 2 and segment[0] in ZH_NUMERALS and segment[1] in ZH_MEASURES


@dataclass(frozen=True, slots=True)
class _Either:
    """Membership in either of two collections."""

    first: Container[str]
    second: Container[str]

    def __contains__(self, item: object) -> bool:
        return item in self.first or item in self.second


@dataclass(frozen=True, slots=True)
class Term:
    """A word of the query that names concepts: ``text`` as typed, the English ``lemmas``
    it stands for (alternatives, best first)."""

    text: str
    lemmas: tuple[str, ...]


class Lexicon:
    """Loaded bridge data; ``terms(text)`` finds the concept-naming words of a query."""

    def __init__(self, data: dict[str, Any], *, jieba_cache: Path | None = None) -> None:
        self.classes: list[str] = data["classes"]
        self.names: list[str] = data["names"]
        self.closure: dict[str, list[list[int]]] = data["closure"]
        self.parents: dict[str, list[str]] = data["parents"]
        self.lemmas: dict[str, list[list[Any]]] = data["lemmas"]
        self.exceptions: dict[str, str] = data["exceptions"]
        self.zh: dict[str, list[str]] = data["zh"]
        self.zh_names: list[list[str]] = data["zh_names"]
        self.people: frozenset[str] = frozenset(data["people"])
        self.zh_people: frozenset[str] = frozenset(data["zh_people"])
        self._jieba_cache = jieba_cache
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @classmethod
    def shipped(cls, *, jieba_cache: Path | None = None) -> Lexicon:
        blob = resources.files("loupe.search").joinpath(DATA_FILE).read_bytes()
        return cls(json.loads(gzip.decompress(blob)), jieba_cache=jieba_cache)

    @classmethod
    def shared(cls, *, jieba_cache: Path | None = None) -> Lexicon:
        """The process's one shipped lexicon (~18 MB), loaded on first use; the concept route
        and the person evidence both read it. ``jieba_cache``: the first caller's counts."""
        global _SHARED
        with _SHARED_LOCK:
            if _SHARED is None:
                _SHARED = cls.shipped(jieba_cache=jieba_cache)
            return _SHARED

    # -- English ---------------------------------------------------------------------------
    def lemma_of(self, phrase: str, known: Container[str] | None = None) -> str | None:
        """``phrase`` as a noun lemma of ``known`` (default: those that name concepts): itself,
        or with its last word made singular."""
        known = self.lemmas if known is None else known
        if phrase in known:
            return phrase
        head, _, last = phrase.rpartition(" ")
        bases = [self.exceptions[last]] if last in self.exceptions else []
        bases += [last[: -len(s)] + e for s, e in DETACH if last.endswith(s) and len(last) > len(s)]
        for base in bases:
            candidate = f"{head} {base}".strip()
            if candidate in known:
                return candidate
        return None

    def english_terms(self, text: str, known: Container[str] | None = None) -> list[Term]:
        """The runs of ``text``'s words that are lemmas of ``known`` (default: those that name
        concepts), the longest first, left to right."""
        words = _WORD.findall(text.lower().replace("_", " "))
        terms: list[Term] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_PHRASE, len(words) - i), 0, -1):
                phrase = " ".join(words[i : i + n])
                lemma = None if n == 1 and phrase in EN_STOP else self._phrase(phrase, known)
                if lemma is not None:
                    terms.append(Term(phrase, (lemma,)))
                    i += n
                    break
            else:
                i += 1
        return terms

    def _phrase(self, phrase: str, known: Container[str] | None) -> str | None:
        found = self.lemma_of(phrase, known)
        if found is None and "-" in phrase:
            found = self.lemma_of(phrase.replace("-", " "), known)
        return found

    # -- Chinese ---------------------------------------------------------------------------
    def chinese_terms(self, text: str) -> list[Term]:
        return [t for segment in self._split(text)[1] for t in self._zh_words(segment)]

    def _split(self, text: str) -> tuple[str, list[str]]:
        """(the Latin side of ``text``, the segments of its Chinese runs). Latin letters glued
        before a Chinese run are segmented with it (upper-cased, as CC-CEDICT writes them):
        those jieba keeps in a word (T恤) belong to the Chinese side, the rest to the Latin."""
        latin: list[str] = []
        segments: list[str] = []
        for run in _MIXED.findall(text):
            prefix = len(run) - len(_CJK.sub("", run))
            for segment in self._segment(run[:prefix].upper() + run[prefix:]):
                (latin if segment.isascii() else segments).append(segment)
        return " ".join([_MIXED.sub(" ", text), *latin]), segments

    def _zh_words(self, segment: str) -> list[Term]:
        if segment in ZH_STOP:
            return []
        if segment in self.zh:
            return [Term(segment, tuple(self.zh[segment]))]
        if _quantified(segment):
            return self._zh_words(segment[2:])
        found: list[Term] = []
        i = 0
        while i < len(segment):
            for n in range(len(segment) - i, 1, -1):
                piece = segment[i : i + n]
                if piece in self.zh and piece not in ZH_STOP:
                    found.append(Term(piece, tuple(self.zh[piece])))
                    i += n
                    break
            else:
                i += 1
        return found

    def _segment(self, run: str) -> list[str]:
        tokenizer = self._tokenizer
        if tokenizer is None:
            tokenizer = self.load_segmenter()
        words: list[str] = tokenizer.lcut(run, HMM=False)
        return words

    def load_segmenter(self) -> Any:
        """Load jieba's dictionary now (~0.6 s, ~70 MB; cached under ``jieba_cache``). It is
        jieba's process-wide tokenizer, which ``search.evidence`` segments with too: one copy
        of the dictionary in memory, loaded once (at start-up: ``Calibrator.warm``)."""
        with self._lock:
            if self._tokenizer is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.dt
                if self._jieba_cache is not None and not tokenizer.initialized:
                    self._jieba_cache.mkdir(parents=True, exist_ok=True)
                    tokenizer.tmp_dir = str(self._jieba_cache)
                tokenizer.initialize()
                self._tokenizer = tokenizer
            return self._tokenizer

    def content_words(self, text: str) -> list[str]:
        """The words of ``text`` that could carry its meaning: English word runs and Chinese
        segments that are not function words (``_function_word``: 一只, 一匹, 两杯 are the
        Chinese "a", "two")."""
        latin, segments = self._split(text) if _CJK.search(text) else (text, [])
        english = [w for w in _WORD.findall(latin.lower().replace("_", " ")) if w not in EN_STOP]
        return english + [s for s in segments if not _function_word(s)]

    def person_words(self, text: str) -> list[str]:
        """The words of ``text`` that name a kind of person: English runs whose lemma is one of
        ``people`` (the longest run wins, over the lemmas that name concepts too: a "German
        shepherd" is a dog, a "coffee maker" a machine), Chinese segments among ``zh_people``
        (一位医生: 医生)."""
        english = self.english_terms(text, _Either(self.lemmas, self.people))
        found = [t.text for t in english if t.lemmas[0] in self.people]
        if _CJK.search(text):
            for segment in self._split(text)[1]:
                word = segment[2:] if _quantified(segment) else segment
                if word in self.zh_people:
                    found.append(word)
        return found

    def terms(self, text: str) -> list[Term]:
        """Concept-naming words of ``text``: English runs, then Chinese runs."""
        if not _CJK.search(text):
            return self.english_terms(text)
        latin, segments = self._split(text)
        return self.english_terms(latin) + [t for s in segments for t in self._zh_words(s)]
