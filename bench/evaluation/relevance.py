"""``loupe bench relevance``: how often ``no_good_match`` and the per-hit ``match`` are right.

Two collections are built in memory (the real ``SearchService`` and ``Calibrator`` over the
exact ``NumpyIndex``) from photos that ship with the installed packages:

* ``samples``: the 19 scikit-image / scikit-learn photos (``bench.evaluation.samples``);
* ``samples+mnist``: the same plus ``per_class`` Fashion-MNIST and Animal-MNIST images of each
  of their 10 classes (219 photos at the default 10).

Every query of ``relevance_queries.right_answers`` is searched. A query whose top hit has one
of its right labels is *answered*; the **false-alarm rate** is the share of answered queries
flagged ``no_good_match``. The **catch rate** is the share of the held-out ``NONSENSE``
queries flagged. **Match precision** is the share of hits labelled ``strong`` or ``weak`` (in
the top 10 of answered and unanswered real queries) whose label is right; **strong precision**
the same for ``strong`` alone.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

from loupe.bench.evaluation.datasets import (
    EvalDataset,
    load_animal_mnist,
    load_fashion_mnist,
    load_samples,
)
from loupe.bench.evaluation.relevance_queries import NONSENSE, right_answers
from loupe.bench.report import Report
from loupe.search.encoders.base import Encoder
from loupe.search.index.base import SEMANTIC, VISUAL, Point
from loupe.search.index.memory_store import NumpyIndex
from loupe.search.query import SearchQuery
from loupe.search.service import SearchService

LIMIT = 10


@dataclass(frozen=True, slots=True)
class RelevanceParams:
    per_class: int = 10  # MNIST images per class in the larger collection


@dataclass(slots=True)
class Tally:
    answered: int = 0
    false_alarms: int = 0
    nonsense: int = 0
    caught: int = 0
    matched: int = 0
    matched_right: int = 0
    strong: int = 0
    strong_right: int = 0

    def rate(self, part: int, whole: int) -> float:
        return 100.0 * part / whole if whole else 0.0


def _points(sets: dict[str, EvalDataset], encoder: Encoder) -> list[Point]:
    points = []
    for name, dataset in sets.items():
        vectors = encoder.encode_images(dataset.images)
        for row, label in enumerate(dataset.labels):
            named = {SEMANTIC: vectors.semantic[row]}
            if vectors.visual is not None:
                named[VISUAL] = vectors.visual[row]
            pid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{name}/{row}"))
            points.append(Point(pid, named, {"modality": "image", "label": f"{name}:{label}"}))
    return points


def _service(points: list[Point], encoder: Encoder) -> SearchService:
    index = NumpyIndex()
    index.create_collection(
        "eval", model_id=encoder.model_id, dim=encoder.dim, visual_dim=encoder.visual_dim
    )
    index.upsert("eval", points)
    index.set_alias("loupe", "eval")
    return SearchService(
        index, encoder, alias="loupe", cache_size=0, max_in_flight=4, batch_wait_ms=0.5
    )


def evaluate_collection(
    service: SearchService, answers: dict[str, set[str]]
) -> tuple[Tally, dict[str, list[str]]]:
    tally = Tally()
    misses: dict[str, list[str]] = {"false_alarms": [], "missed_nonsense": []}
    for query, right in answers.items():
        result = service.search(SearchQuery(text=query, limit=LIMIT))
        labels = [str(hit.payload["label"]) for hit in result.hits]
        for hit, label in zip(result.hits, labels, strict=True):
            if hit.match in ("strong", "weak"):
                tally.matched += 1
                tally.matched_right += label in right
            if hit.match == "strong":
                tally.strong += 1
                tally.strong_right += label in right
        if labels and labels[0] in right:
            tally.answered += 1
            if result.no_good_match:
                tally.false_alarms += 1
                misses["false_alarms"].append(query)
    for query in NONSENSE:
        result = service.search(SearchQuery(text=query, limit=LIMIT))
        tally.nonsense += 1
        if result.no_good_match:
            tally.caught += 1
        else:
            misses["missed_nonsense"].append(query)
    return tally, misses


def run_relevance(encoder: Encoder, params: RelevanceParams) -> Report:
    """Build both collections, run every query, and report the rates (see the module)."""
    encoder.load()
    report = Report("relevance", asdict(params))
    samples = {"samples": load_samples()}
    mnist = {
        "fashion": load_fashion_mnist(per_class=params.per_class),
        "animal": load_animal_mnist(per_class=params.per_class),
    }
    base = _points(samples, encoder)
    for name, points in (("samples", base), ("samples+mnist", base + _points(mnist, encoder))):
        service = _service(points, encoder)
        try:
            tally, misses = evaluate_collection(
                service, right_answers(with_mnist=name != "samples")
            )
            cut = service.calibrator.cut("eval", encoder)
        finally:
            service.close()
        t = tally
        report.add(
            f"{name}.false_alarm",
            f"{name}: no_good_match on answered queries",
            "%",
            [t.rate(t.false_alarms, t.answered)],
        )
        report.add(
            f"{name}.catch",
            f"{name}: no_good_match on nonsense",
            "%",
            [t.rate(t.caught, t.nonsense)],
        )
        report.add(
            f"{name}.match_precision",
            f"{name}: matches that are right",
            "%",
            [t.rate(t.matched_right, t.matched)],
        )
        report.add(
            f"{name}.strong_precision",
            f"{name}: strong matches that are right",
            "%",
            [t.rate(t.strong_right, t.strong)],
        )
        report.details[name] = {"photos": len(points), "cut": cut, **asdict(t), **misses}
        report.notes.append(
            f"{name}: {len(points)} photos, cut {cut:.3f}; {t.answered} answered queries, "
            f"{t.nonsense} nonsense; {t.matched} hits called matches ({t.strong} strong)"
        )
    return report
