"""The collections and queries of ``loupe bench relevance`` (``bench.evaluation.relevance``).

* ``samples``: the 19 scikit-image / scikit-learn photos (``bench.evaluation.samples``);
* ``samples+mnist``: the same plus ``per_class`` Fashion-MNIST and Animal-MNIST images of each of
  their 10 classes (219 photos at the default 10);
* ``gcompris``: the 164 photos of the concept eval set (``bench.evaluation.concepts``), when
  Debian's ``gcompris-qt-data`` is installed.

Each is an exact in-memory ``NumpyIndex`` (collection ``eval`` behind the alias ``loupe``) with
its ``Case`` list: every real query (``right`` = the ids of the photos that answer it) and every
nonsense query (``right`` empty; ``relevance_queries.nonsense``). For picture queries it also
carries each photo's label (``labels``: a photo query is answered when its top hit shares it)
and *foreign* photos that show nothing the collection holds (GCompris's non-animal photos for
the scikit/MNIST collections, Fashion-MNIST for GCompris): the pictures' nonsense.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image

from loupe.bench.evaluation import concepts
from loupe.bench.evaluation.datasets import (
    DatasetUnavailable,
    EvalDataset,
    load_animal_mnist,
    load_fashion_mnist,
    load_samples,
)
from loupe.bench.evaluation.ingested import eval_index, ingested
from loupe.bench.evaluation.relevance_queries import nonsense, right_answers
from loupe.ingest.enrich.runner import Enrichers
from loupe.search.encoders.base import Encoder
from loupe.search.index.base import Point
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
    labels: dict[str, str]  # point id -> label, for the photos with one
    foreign: list[Image.Image]


def _points(
    sets: dict[str, EvalDataset], encoder: Encoder, enrichers: Enrichers | None
) -> list[Point]:
    points = []
    for name, dataset in sets.items():
        ids = [
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"{name}/{row}"))
            for row in range(len(dataset.labels))
        ]
        payloads = [{"modality": "image", "label": f"{name}:{label}"} for label in dataset.labels]
        points += ingested(encoder, dataset.images, ids, payloads, enrichers)
    return points


def _with_nonsense(real: dict[str, frozenset[str]]) -> list[Case]:
    cases = [Case(text, right, "real") for text, right in real.items()]
    return cases + [Case(text, frozenset(), family) for text, family in nonsense()]


def _labelled(points: list[Point], *, with_mnist: bool) -> list[Case]:
    real = {
        text: frozenset(p.id for p in points if p.payload["label"] in labels)
        for text, labels in right_answers(with_mnist=with_mnist).items()
    }
    return _with_nonsense(real)


def _gcompris() -> list[concepts.Photo]:
    try:
        return concepts.load_photos()
    except DatasetUnavailable:
        return []


def collections(
    encoder: Encoder, *, per_class: int, enrichers: Enrichers | None = None
) -> Iterator[Collection]:
    """``samples``, ``samples+mnist`` and (when installed) ``gcompris``, one at a time; with
    ``enrichers``, their fields in each point's payload, as ingest stores them."""
    photos = _gcompris()
    unlike = [p.image for p in photos if "animal" not in p.categories]
    base = _points({"samples": load_samples()}, encoder, enrichers)
    labels = {p.id: str(p.payload["label"]) for p in base}
    yield Collection(
        "samples", eval_index(base, encoder), _labelled(base, with_mnist=False), 19, labels, unlike
    )
    fashion = load_fashion_mnist(per_class=per_class)
    mnist = {"fashion": fashion, "animal": load_animal_mnist(per_class=per_class)}
    both = base + _points(mnist, encoder, enrichers)
    labels = {p.id: str(p.payload["label"]) for p in both}
    yield Collection(
        "samples+mnist",
        eval_index(both, encoder),
        _labelled(both, with_mnist=True),
        len(both),
        labels,
        unlike,
    )
    if not photos:
        return
    index = concepts.fill(encoder, photos, enrichers)
    real: dict[str, frozenset[str]] = {}
    for query in concepts.queries(photos):
        right = frozenset(concepts.point_id(i) for i in query.relevant)
        real[query.text] = real.get(query.text, frozenset()) | right
    labels = {concepts.point_id(i): p.subject for i, p in enumerate(photos) if p.subject}
    cases = _with_nonsense(real)
    yield Collection("gcompris", index, cases, len(photos), labels, list(fashion.images))
