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
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loupe.search.encoders.base import Vectors, l2_normalise

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
    hypernym_weight: float = 1.0

    def key(self) -> str:
        blob = json.dumps([self.templates, self.synonym_weight, self.hypernym_weight])
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


def load_classes() -> list[ImageNetClass]:
    """The 1000 classes in classifier index order, from ``search/data/imagenet_classes.json``."""
    raw = resources.files("loupe.search").joinpath("data/imagenet_classes.json").read_text("utf-8")
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


@dataclass(frozen=True, slots=True)
class ClassTextParts:
    """Per-class unit vectors of each text group, before mixing."""

    names: Vectors
    synonyms: Vectors
    hypernyms: Vectors

    def mix(self, *, synonym_weight: float, hypernym_weight: float) -> Vectors:
        mixed = self.names + synonym_weight * self.synonyms + hypernym_weight * self.hypernyms
        return l2_normalise(mixed)


def class_text_parts(
    embed: Callable[[list[str]], Vectors],
    classes: Sequence[ImageNetClass],
    templates: Sequence[str],
) -> ClassTextParts:
    """Embed the prompt ensemble of names, the synonyms and the hypernym-tagged names."""
    first = templates[0]
    return ClassTextParts(
        names=_mean_of(embed, [[t.format(c.name) for t in templates] for c in classes]),
        synonyms=_mean_of(embed, [[first.format(s) for s in c.synonyms] for c in classes]),
        hypernyms=_mean_of(
            embed, [[f"a photo of a {c.name}, {tag}." for tag in c.hypernyms] for c in classes]
        ),
    )


def build_class_vectors(
    embed: Callable[[list[str]], Vectors],
    classes: Sequence[ImageNetClass],
    recipe: ClassTextRecipe,
) -> Vectors:
    """(len(classes), dim) unit rows: name ensemble + weighted synonyms and hypernym tags."""
    parts = class_text_parts(embed, classes, recipe.templates)
    return parts.mix(synonym_weight=recipe.synonym_weight, hypernym_weight=recipe.hypernym_weight)


def class_vectors_name(*, tower_id: str, recipe: ClassTextRecipe) -> str:
    """File name of the class vectors for a tower, a recipe and the shipped class list."""
    data = resources.files("loupe.search").joinpath("data/imagenet_classes.json").read_bytes()
    return f"imagenet-{tower_id}-{recipe.key()}-{hashlib.sha256(data).hexdigest()[:12]}.npy"


def _read_vectors(source: Path | Traversable, rows: int) -> Vectors | None:
    if not source.is_file():
        return None
    with source.open("rb") as handle:
        vectors = np.load(handle)
    return l2_normalise(vectors) if vectors.shape[0] == rows else None


def write_vectors(path: Path, vectors: NDArray[Any]) -> None:
    """Save ``vectors`` as ``.npy`` at ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            np.save(out, vectors)
        os.replace(tmp_name, path)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def cached_class_vectors(
    embed: Callable[[list[str]], Vectors],
    *,
    tower_id: str,
    recipe: ClassTextRecipe,
    cache_dir: Path | None,
) -> Vectors:
    """Class vectors from ``cache_dir``, else shipped in ``search/data``, else built and cached.

    The shipped copies (float16) exist for the default recipe of each bundled tower, so a cold
    start does not spend minutes embedding ~7,000 class texts on a small CPU.
    """
    classes = load_classes()
    name = class_vectors_name(tower_id=tower_id, recipe=recipe)
    path = cache_dir / name if cache_dir is not None else None
    for source in (path, resources.files("loupe.search").joinpath(f"data/{name}")):
        found = _read_vectors(source, len(classes)) if source is not None else None
        if found is not None:
            return found
    vectors = build_class_vectors(embed, classes, recipe)
    if path is not None:
        write_vectors(path, vectors)
    return vectors
