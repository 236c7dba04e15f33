"""Text vectors of the 1000 ImageNet classes, the bridge ConSE uses from classifier to text space.

Each class vector mixes a prompt ensemble over the class name, its synonyms and (with a small
weight) its hypernym tags ("an animal", "food", "a vehicle"), so broad queries reach the photos.
Vectors are cached as ``.npy`` in a cache folder, keyed by the text tower and the recipe.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from search.encoders.base import Vectors, l2_normalise

TEMPLATES: tuple[str, ...] = (
    "a photo of a {}.",
    "a picture of a {}.",
    "a close-up photo of a {}.",
    "an image showing a {}.",
)


@dataclass(frozen=True, slots=True)
class ImageNetClass:
    wnid: str
    name: str
    synonyms: tuple[str, ...]
    hypernyms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClassTextRecipe:
    """How class texts are built and mixed; part of the cache key and of the space."""

    templates: tuple[str, ...] = TEMPLATES
    synonym_weight: float = 0.3
    hypernym_weight: float = 0.25

    def key(self) -> str:
        blob = json.dumps([self.templates, self.synonym_weight, self.hypernym_weight])
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


def load_classes() -> list[ImageNetClass]:
    """The 1000 classes in classifier index order, from ``search/data/imagenet_classes.json``."""
    raw = resources.files("search").joinpath("data/imagenet_classes.json").read_text("utf-8")
    return [
        ImageNetClass(
            wnid=item["wnid"],
            name=item["name"],
            synonyms=tuple(item["synonyms"]),
            hypernyms=tuple(item["hypernyms"]),
        )
        for item in json.loads(raw)["classes"]
    ]


def _mean_of(embed: Callable[[list[str]], Vectors], groups: Sequence[Sequence[str]]) -> Vectors:
    """Embed every text once; return the normalised mean per group (zero row for empty)."""
    flat = [text for group in groups for text in group]
    vectors = embed(flat) if flat else np.zeros((0, 1), np.float32)
    out = np.zeros((len(groups), vectors.shape[1] if flat else 1), dtype=np.float32)
    start = 0
    for row, group in enumerate(groups):
        if group:
            out[row] = vectors[start : start + len(group)].mean(axis=0)
            start += len(group)
    return l2_normalise(out)


def build_class_vectors(
    embed: Callable[[list[str]], Vectors],
    classes: Sequence[ImageNetClass],
    recipe: ClassTextRecipe,
) -> Vectors:
    """(len(classes), dim) unit rows: name ensemble + weighted synonyms and hypernym tags."""
    names = _mean_of(embed, [[t.format(c.name) for t in recipe.templates] for c in classes])
    first = recipe.templates[0]
    synonyms = _mean_of(embed, [[first.format(s) for s in c.synonyms] for c in classes])
    tagged = [[f"a photo of a {c.name}, {tag}." for tag in c.hypernyms] for c in classes]
    hypernyms = _mean_of(embed, tagged)
    mixed = names + recipe.synonym_weight * synonyms + recipe.hypernym_weight * hypernyms
    return l2_normalise(mixed)


def cached_class_vectors(
    embed: Callable[[list[str]], Vectors],
    *,
    tower_id: str,
    recipe: ClassTextRecipe,
    cache_dir: Path | None,
) -> Vectors:
    """Class vectors from ``cache_dir`` when present, else built and written there atomically."""
    classes = load_classes()
    data_key = hashlib.sha256(repr(classes).encode()).hexdigest()[:12]
    path = None
    if cache_dir is not None:
        path = cache_dir / f"imagenet-{tower_id}-{recipe.key()}-{data_key}.npy"
        if path.is_file():
            cached = np.load(path)
            if cached.shape[0] == len(classes):
                return cached.astype(np.float32, copy=False)
    vectors = build_class_vectors(embed, classes, recipe)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
        with os.fdopen(handle, "wb") as out:
            np.save(out, vectors)
        os.replace(tmp_name, path)
    return vectors
