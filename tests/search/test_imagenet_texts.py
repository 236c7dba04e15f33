"""The shipped ImageNet class list and the class-vector cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from loupe.search.encoders.base import Vectors, l2_normalise
from loupe.search.encoders.imagenet_texts import (
    ClassTextRecipe,
    cached_class_vectors,
    class_vectors_name,
    load_classes,
)


def _hash_embed(texts: list[str]) -> Vectors:
    """A deterministic stand-in text tower: 8-d vectors from each text's sha256."""
    rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], np.uint8) for t in texts]
    return l2_normalise(np.stack(rows).astype(np.float32) - 127.5)


def _refuse(texts: list[str]) -> Vectors:
    raise AssertionError(f"embedded {len(texts)} texts instead of reading the cache")


def test_class_list_is_complete_and_clean() -> None:
    classes = load_classes()
    assert len(classes) == 1000
    wnids = [c.wnid for c in classes]
    assert wnids == sorted(wnids)
    assert len(set(wnids)) == 1000
    assert len({c.name.lower() for c in classes}) == 1000
    assert (classes[0].name, classes[281].name, classes[999].name) == (
        "tench fish",
        "tabby cat",
        "toilet paper",
    )
    assert "a cat" in classes[281].hypernyms
    assert "an animal" in classes[281].hypernyms
    assert "food" in classes[963].hypernyms  # pizza


def test_class_vectors_are_cached_and_reused(tmp_path: Path) -> None:
    recipe = ClassTextRecipe(templates=("a photo of a {}.",), synonym_weight=0.5)
    first = cached_class_vectors(_hash_embed, tower_id="hash8", recipe=recipe, cache_dir=tmp_path)
    assert first.shape == (1000, 8)
    assert (tmp_path / class_vectors_name(tower_id="hash8", recipe=recipe)).is_file()
    again = cached_class_vectors(_refuse, tower_id="hash8", recipe=recipe, cache_dir=tmp_path)
    np.testing.assert_allclose(first, again, atol=1e-6)
    other = ClassTextRecipe(templates=("a picture of a {}.",))
    with pytest.raises(AssertionError, match="instead of reading"):
        cached_class_vectors(_refuse, tower_id="hash8", recipe=other, cache_dir=tmp_path)


@pytest.mark.parametrize("tower_id", ["e5s", "mlm6"])
def test_default_recipe_ships_vectors_for_each_tower(tower_id: str, tmp_path: Path) -> None:
    vectors = cached_class_vectors(
        _refuse, tower_id=tower_id, recipe=ClassTextRecipe(), cache_dir=tmp_path
    )
    assert vectors.shape == (1000, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
