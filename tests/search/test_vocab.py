"""``search.concepts.vocab``: concept ids of every namespace in one integer space, each id
read back to its namespace and local number; ids outside a namespace are refused."""

from __future__ import annotations

import pytest

from loupe.search.concepts.vocab import IMAGENET, Namespace, concept_id, describe


def test_imagenet_ids_are_its_class_numbers_and_read_back() -> None:
    assert concept_id(IMAGENET, 0) == 0 and concept_id(IMAGENET, 999) == 999
    assert describe(417) == (IMAGENET, 417)


def test_a_later_namespace_takes_its_own_block() -> None:
    coco = Namespace("coco", 1 << 20, 80)
    assert coco.id(5) == (1 << 20) + 5
    with pytest.raises(ValueError, match=r"coco concept 80 is outside 0\.\.79"):
        coco.id(80)


def test_unknown_ids_are_refused() -> None:
    for bad in (-1, 1000, 1 << 20):
        with pytest.raises(ValueError, match="unknown concept id"):
            describe(bad)
    with pytest.raises(ValueError, match="outside"):
        concept_id(IMAGENET, -1)
