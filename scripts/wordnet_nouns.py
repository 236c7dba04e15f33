"""WordNet 3.0's noun files, read for ``build_concepts.py``: synsets with their pointers,
lemmas with their senses, tagged-corpus counts, and WordNet's noun morphology."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from loupe.search.concepts.lexicon import DETACH


@dataclass(slots=True)
class Synset:
    offset: str
    lemmas: list[str]
    hypernyms: list[str] = field(default_factory=list)
    hyponyms: list[str] = field(default_factory=list)
    wholes: list[str] = field(default_factory=list)
    instance: bool = False  # a named individual (Hart Crane, Paris): an ``@i`` hypernym


def read_synsets(wordnet: Path) -> dict[str, Synset]:
    """``data.noun`` → synsets with lemmas and (instance) hypernym/hyponym pointers."""
    out: dict[str, Synset] = {}
    with (wordnet / "data.noun").open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("  "):
                continue
            fields = line.split(" | ")[0].split()
            offset, count = fields[0], int(fields[3], 16)
            words = fields[4 : 4 + 2 * count : 2]
            synset = Synset(offset, [w.lower().replace("_", " ") for w in words])
            at = 4 + 2 * count
            for i in range(int(fields[at])):
                symbol, target, pos = fields[at + 1 + 4 * i : at + 4 + 4 * i]
                if pos != "n":
                    continue
                if symbol in ("@", "@i"):
                    synset.hypernyms.append(target)
                    synset.instance |= symbol == "@i"
                elif symbol in ("~", "~i"):
                    synset.hyponyms.append(target)
                elif symbol == "#p":
                    synset.wholes.append(target)
            out[offset] = synset
    return out


def closures(synsets: dict[str, Synset], classes: dict[str, int]) -> dict[str, dict[int, int]]:
    """offset → {class index: depth below it} for every synset that reaches a class."""
    found: dict[str, dict[int, int]] = {}
    for offset, index in classes.items():
        frontier, depth, seen = [offset], 0, {offset}
        while frontier:
            for node in frontier:
                known = found.setdefault(node, {})
                known[index] = min(known.get(index, depth), depth)
            frontier = [p for n in frontier for p in synsets[n].hypernyms if p not in seen]
            seen.update(frontier)
            depth += 1
    return found


def below(synsets: dict[str, Synset], root: str) -> set[str]:
    """``root`` and every synset under it by (instance) hyponyms."""
    found, frontier = {root}, [root]
    while frontier:
        frontier = [h for n in frontier for h in synsets[n].hyponyms if h not in found]
        found.update(frontier)
    return found


def pos_counts(wordnet: Path) -> dict[str, dict[str, int]]:
    """lemma → part of speech (n, v, a, r) → times WordNet's tagged corpus saw it
    (``cntlist.rev``: sense key, sense number, count; ``lemma%1`` is a noun, 2 a verb, 3 and 5
    an adjective, 4 an adverb)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with (wordnet / "cntlist.rev").open(encoding="utf-8") as handle:
        for line in handle:
            key, _, count = line.split()
            lemma, _, rest = key.partition("%")
            out[lemma.replace("_", " ")]["nvara"[int(rest[0]) - 1]] += int(count)
    return out


def read_index(path: Path) -> set[str]:
    """The lemmas of a WordNet ``index.*`` file (spaces, lower case)."""
    with path.open(encoding="utf-8") as handle:
        return {line.split()[0].replace("_", " ") for line in handle if not line.startswith(" ")}


def read_lemmas(wordnet: Path) -> Iterator[tuple[str, list[str], int]]:
    """``index.noun`` → (lemma, synset offsets in sense order, tagged sense count)."""
    with (wordnet / "index.noun").open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("  "):
                continue
            fields = line.split()
            lemma, senses, pointers = fields[0], int(fields[2]), int(fields[3])
            tagged = int(fields[5 + pointers])
            offsets = fields[6 + pointers : 6 + pointers + senses]
            yield lemma.replace("_", " "), offsets, tagged


def resolve(phrase: str, lemmas: Container[str], exceptions: dict[str, str]) -> str | None:
    """A phrase as a known lemma: itself, or its last word made singular."""
    if phrase in lemmas:
        return phrase
    head, _, last = phrase.rpartition(" ")
    for base in singulars(last, exceptions):
        candidate = f"{head} {base}".strip()
        if candidate in lemmas:
            return candidate
    return None


def singulars(word: str, exceptions: dict[str, str]) -> list[str]:
    """WordNet's noun morphology: the exception list, then its detachment rules."""
    out = [exceptions[word]] if word in exceptions else []
    for suffix, ending in DETACH:  # the query side's rules (search/concepts/lexicon.py)
        if word.endswith(suffix) and len(word) > len(suffix):
            out.append(word[: -len(suffix)] + ending)
    return out
