"""Substring matching of text read in images through keyword payload indexes.

Qdrant's full-text tokenizers (word, prefix, multilingual) match whole words or prefixes, and
qdrant-client's local mode cannot reproduce an index tokenizer at all, so "RE16" inside
"RE16TGK" or "中山" inside "中山路出口" would match in one adapter and not in another. Instead the
ingest side stores every character n-gram (n ≤ ``GRAM``) of each normalised line in a keyword
field, and a "text contains" query asks for all n-grams of the query: the same rule in every
adapter, for Latin and CJK alike. The test is exact for needles of up to three characters; for
longer ones every trigram must occur, which can also hold, rarely, when they occur apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

GRAM = 3
MAX_GRAMS = 4000
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC, lower case, runs of white space as one space, trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _grams(line: str, sizes: Iterable[int]) -> Iterable[str]:
    for size in sizes:
        for start in range(len(line) - size + 1):
            gram = line[start : start + size]
            if gram.strip():
                yield gram


def index_grams(text: str) -> list[str]:
    """The keywords stored for the text read in an image (lines joined by a space): its
    n-grams of 1..GRAM characters, at most MAX_GRAMS. The text is padded with a space at both
    ends, so a word at the start or end has its boundary grams too (``word_grams``)."""
    found: dict[str, None] = {}
    normalised = normalise(text)
    for gram in _grams(f" {normalised} " if normalised else "", range(1, GRAM + 1)):
        found.setdefault(gram, None)
        if len(found) >= MAX_GRAMS:
            break
    return list(found)


def query_grams(text: str) -> list[str]:
    """The keywords that every match of ``text`` holds (empty: ``text`` has no characters)."""
    needle = normalise(text)
    size = min(GRAM, len(needle))
    return list(dict.fromkeys(_grams(needle, [size]))) if size else []


def word_grams(word: str) -> list[str]:
    """The keywords every text holding ``word`` as a whole word holds (a space, or the start or
    end of the text, on both sides): "cat" matches "a cat sat", not "location"."""
    needle = normalise(word)
    if not needle:
        return []
    padded = f" {needle} "
    return list(dict.fromkeys(_grams(padded, [min(GRAM, len(padded))])))


def contains(haystack: str, needle: str) -> bool:
    """The exact rule the grams approximate: ``needle`` occurs in ``haystack`` (normalised)."""
    return normalise(needle) in normalise(haystack)
