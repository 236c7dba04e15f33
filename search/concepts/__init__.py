"""Concepts: from a query's words (English or Chinese) to weighted classifier concepts.

``vocab`` names the concept ids (ImageNet-1k classes now; other namespaces can be added);
``lexicon`` reads the shipped WordNet/CC-CEDICT bridge; ``route`` turns a text into concept
weights (``ConceptQuery``) that score against each image's stored class probabilities.
"""

from __future__ import annotations

from loupe.search.concepts.route import ConceptQuery, ConceptRoute, RouteParams
from loupe.search.concepts.vocab import IMAGENET, Namespace, concept_id, describe

__all__ = [
    "IMAGENET",
    "ConceptQuery",
    "ConceptRoute",
    "Namespace",
    "RouteParams",
    "concept_id",
    "describe",
]
