"""The collections and queries of ``loupe bench relevance`` (``bench.evaluation.relevance``).

* ``samples``: the 19 scikit-image / scikit-learn photos (``bench.evaluation.samples``);
* ``samples+mnist``: the same plus ``per_class`` Fashion-MNIST and Animal-MNIST images of each of
  their 10 classes (219 photos at the default 10);
* ``gcompris``: the 164 photos of the concept eval set (``bench.evaluation.concepts``), when
  Debian's ``gcompris-qt-data`` is installed.

Each is an exact in-memory ``NumpyIndex`` (collection ``eval`` behind the alias ``loupe``) with
its ``Case`` list: every real query (``right`` = the ids of the photos that answer it) and every
nonsense query (``right`` empty; ``relevance_queries.nonsense``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from loupe.bench.evaluation import concepts
from loupe.bench.evaluation.datasets import (
    DatasetUnavailable,
    EvalDataset,
    load_animal_mnist,
    load_fashion_mnist,
    load_samples,
)
from loupe.bench.evaluation.relevance_queries import nonsense, right_answers
from loupe.search.encoders.base import Encoder
from loupe.search.index.base import CONCEPTS, SEMANTIC, VISUAL, Point, SparseVector
from loupe.search.index.memory_store import NumpyIndex


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    right: frozenset[str]  # ids of the photos that answer it; empty for nonsense
    family: str  # "real" or a nonsense family


@dataclass(frozen=True, slots=True)
class Collection:
    name: str
    index: NumpyIndex
    cases: list[Case]
    photos: int


def _points(sets: dict[str, EvalDataset], encoder: Encoder) -> list[Point]:
    points = []
    for name, dataset in sets.items():
        vectors = encoder.encode_images(dataset.images)
        for row, label in enumerate(dataset.labels):
            named = {SEMANTIC: vectors.semantic[row]}
            if vectors.visual is not None:
                named[VISUAL] = vectors.visual[row]
            sparse = {}
            if vectors.concepts is not None:
                sparse[CONCEPTS] = SparseVector.of(vectors.concepts[row])
            pid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{name}/{row}"))
            points.append(
                Point(pid, named, {"modality": "image", "label": f"{name}:{label}"}, sparse)
            )
    return points


def _index(points: list[Point], encoder: Encoder) -> NumpyIndex:
    index = NumpyIndex()
    index.create_collection(
        "eval", model_id=encoder.model_id, dim=encoder.dim, visual_dim=encoder.visual_dim
    )
    index.upsert("eval", points)
    index.set_alias("loupe", "eval")
    return index


def _with_nonsense(real: dict[str, frozenset[str]]) -> list[Case]:
    cases = [Case(text, right, "real") for text, right in real.items()]
    return cases + [Case(text, frozenset(), family) for text, family in nonsense()]


def _labelled(points: list[Point], *, with_mnist: bool) -> list[Case]:
    real = {
        text: frozenset(p.id for p in points if p.payload["label"] in labels)
        for text, labels in right_answers(with_mnist=with_mnist).items()
    }
    return _with_nonsense(real)


def collections(encoder: Encoder, *, per_class: int) -> Iterator[Collection]:
    """``samples``, ``samples+mnist`` and (when installed) ``gcompris``, one at a time."""
    base = _points({"samples": load_samples()}, encoder)
    yield Collection("samples", _index(base, encoder), _labelled(base, with_mnist=False), 19)
    mnist = {
        "fashion": load_fashion_mnist(per_class=per_class),
        "animal": load_animal_mnist(per_class=per_class),
    }
    both = base + _points(mnist, encoder)
    yield Collection(
        "samples+mnist", _index(both, encoder), _labelled(both, with_mnist=True), len(both)
    )
    try:
        photos = concepts.load_photos()
    except DatasetUnavailable:
        return
    index = concepts.fill(encoder, photos)
    real: dict[str, frozenset[str]] = {}
    for query in concepts.queries(photos):
        right = frozenset(concepts.point_id(i) for i in query.relevant)
        real[query.text] = real.get(query.text, frozenset()) | right
    yield Collection("gcompris", index, _with_nonsense(real), len(photos))
