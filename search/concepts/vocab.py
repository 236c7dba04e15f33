"""Concept ids: one integer space shared by every concept namespace of the ``concepts`` vector.

A sparse index is ``namespace.base + local``: ImageNet-1k class ``i`` is ``i``; later
namespaces (COCO objects, attributes, ...) take the next blocks of ``BLOCK`` ids, so adding one
never renumbers what collections already store.
"""

from __future__ import annotations

from dataclasses import dataclass

BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class Namespace:
    """A block of concept ids: ``name`` (``imagenet``), its ``base`` id and ``size``."""

    name: str
    base: int
    size: int

    def id(self, local: int) -> int:
        if not 0 <= local < self.size:
            raise ValueError(f"{self.name} concept {local} is outside 0..{self.size - 1}")
        return self.base + local


IMAGENET = Namespace("imagenet", 0, 1000)
NAMESPACES: tuple[Namespace, ...] = (IMAGENET,)


def concept_id(namespace: Namespace, local: int) -> int:
    """The global sparse index of concept ``local`` of ``namespace``."""
    return namespace.id(local)


def describe(index: int) -> tuple[Namespace, int]:
    """(namespace, local id) of a global concept id; ValueError for an unknown id."""
    for namespace in NAMESPACES:
        if namespace.base <= index < namespace.base + namespace.size:
            return namespace, index - namespace.base
    raise ValueError(f"unknown concept id {index}")
