"""The concept route: a query text → weights over concepts (``ConceptQuery``).

For each concept-naming word (``Lexicon.terms``) and each of its English lemmas, each WordNet
sense of the lemma contributes:

* **down**: every ImageNet class in the sense's hyponym closure, weight 1 ("parrot" → macaw,
  lorikeet, African grey, sulphur-crested cockatoo; "dog" → the 118 dog classes);
* **up and down** (only when the sense's own closure has no class): every class under each
  hypernym or whole (part holonym) of the sense, weight ``updown · decay^(depth - 1) /
  (1 + log2 n)`` by its depth below that parent, ``n`` the parent's class count (a parent over
  many classes says less about which one the word means): "cow" → cattle → ox; "beach" →
  shore → seashore (and, less, geological formation → cliff); "puppy" → dog → the dogs.

A sense counts fully when it is one of WordNet's tagged (frequent) senses, else ``rare_sense``
times; a Chinese word's later English glosses count ``gloss_decay^position`` times. A word's
weight for a class is the best over those paths, each sense scaled so that its best class
weighs 1 (a frequent sense counts fully whichever path found it). The query's weights are the mean
over its words, so a query's score against an image (Σ weight · class probability) stays in
[0, 1]: about the probability that the image shows what the words name. ``coverage`` is the
share of the query's content words (``Lexicon.content_words``) that name concepts: the weights
speak for that share of the query only ("password reset email": one word in four).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from loupe.search.concepts.lexicon import Lexicon, Term
from loupe.search.concepts.vocab import IMAGENET


@dataclass(frozen=True, slots=True)
class RouteParams:
    """Weights of the route's paths (see the module docstring)."""

    updown: float = 0.5
    decay: float = 0.5
    rare_sense: float = 0.3
    gloss_decay: float = 0.8
    floor: float = 0.02

    def key(self) -> str:
        return (
            f"u{self.updown:g}d{self.decay:g}r{self.rare_sense:g}"
            f"g{self.gloss_decay:g}f{self.floor:g}"
        )


@dataclass(frozen=True, slots=True)
class ConceptQuery:
    """Concept weights of a query (global concept id → weight in (0, 1]), per word the
    concepts it named (for ``why``), and the share of its content words that named any."""

    weights: Mapping[int, float] = field(default_factory=dict)
    words: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    coverage: float = 1.0

    def __bool__(self) -> bool:
        return bool(self.weights)

    def score(self, concepts: Mapping[int, float]) -> float:
        """Σ weight · value over the concepts both have."""
        return sum(w * concepts[c] for c, w in self.weights.items() if c in concepts)


EMPTY = ConceptQuery()


class ConceptRoute:
    """Query text → ``ConceptQuery`` over the ImageNet namespace (see the module docstring)."""

    def __init__(self, lexicon: Lexicon, params: RouteParams | None = None) -> None:
        self.lexicon = lexicon
        self.params = params or RouteParams()

    def lemma_weights(self, lemma: str) -> dict[int, float]:
        """Class index → weight of one English noun lemma: per sense, its classes scaled so the
        sense's best class weighs 1, times the sense's weight; the best over senses."""
        out: dict[int, float] = {}
        for offset, tagged in self.lexicon.lemmas.get(lemma, []):
            sense = self.sense_weights(offset)
            best = max(sense.values(), default=0.0)
            scale = (1.0 if tagged else self.params.rare_sense) / best if best else 0.0
            for cls, weight in sense.items():
                out[cls] = max(out.get(cls, 0.0), scale * weight)
        return out

    def sense_weights(self, offset: str) -> dict[int, float]:
        """Class index → weight of one synset: its closure (1 each), else up and down."""
        lex, p = self.lexicon, self.params
        if offset in lex.closure:
            return {cls: 1.0 for cls, _ in lex.closure[offset]}
        out: dict[int, float] = {}
        for parent in lex.parents.get(offset, []) if p.updown > 0 else []:
            below = lex.closure[parent]
            scale = p.updown / (1.0 + math.log2(len(below)))
            for cls, depth in below:
                weight = scale * p.decay ** max(depth - 1, 0)
                out[cls] = max(out.get(cls, 0.0), weight)
        return out

    def term_weights(self, term: Term) -> dict[int, float]:
        out: dict[int, float] = {}
        for position, lemma in enumerate(term.lemmas):
            scale = self.params.gloss_decay**position
            for cls, weight in self.lemma_weights(lemma).items():
                out[cls] = max(out.get(cls, 0.0), scale * weight)
        return {c: w for c, w in out.items() if w >= self.params.floor}

    def query(self, text: str) -> ConceptQuery:
        """The concept weights of ``text`` (empty when no word names a concept)."""
        per_word = [(t.text, self.term_weights(t)) for t in self.lexicon.terms(text)]
        per_word = [(word, weights) for word, weights in per_word if weights]
        if not per_word:
            return EMPTY
        total: dict[int, float] = {}
        for _, weights in per_word:
            for cls, weight in weights.items():
                total[IMAGENET.id(cls)] = total.get(IMAGENET.id(cls), 0.0) + weight
        share = 1.0 / len(per_word)
        covered = sum(len(word.split()) for word, _ in per_word)
        content = len(self.lexicon.content_words(text))
        return ConceptQuery(
            weights={c: w * share for c, w in total.items()},
            words={word: tuple(IMAGENET.id(c) for c in weights) for word, weights in per_word},
            coverage=min(1.0, covered / content) if content else 1.0,
        )
