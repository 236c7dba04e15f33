"""``loupe bench relevance``: how often ``no_good_match`` and the per-hit ``match`` are right.

The collections and queries are ``bench.evaluation.relevance_cases``; each runs through the real
``SearchService`` (and its ``Calibrator``) over an exact ``NumpyIndex``, top 10, folding off.

A real query whose top hit is one of its right photos is *answered*; the **false-alarm rate** is
the share of answered queries flagged ``no_good_match``. The **catch rate** is the share of the
nonsense queries flagged. Both are reported for the tuning and the held-out half of the queries
(``relevance_queries.held_out``), by language, per collection and pooled. **Match precision** is
the share of hits labelled ``strong`` or ``weak`` (in the top 10 of real queries) that are right;
**strong precision** the same for ``strong`` alone. Picture queries ("more like this", photo
queries) are measured too (``relevance_pictures``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field

from loupe.bench.evaluation.relevance_cases import Case, collections
from loupe.bench.evaluation.relevance_pictures import PictureTally, judge_pictures
from loupe.bench.evaluation.relevance_queries import held_out, language
from loupe.bench.report import Report
from loupe.ingest.enrich.runner import build_enrichers
from loupe.search.encoders.base import Encoder
from loupe.search.query import SearchQuery
from loupe.search.service import SearchService

LIMIT = 10
SPLITS = ("tune", "held")


@dataclass(frozen=True, slots=True)
class RelevanceParams:
    per_class: int = 10  # MNIST images per class in the larger collection
    enrichers: tuple[str, ...] = ()  # run on each photo as ingest would (none: vectors alone)


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
    missed: list[str] = field(default_factory=list)  # false alarms and uncaught nonsense

    def add(self, other: Tally) -> None:
        for name in ("answered", "false_alarms", "nonsense", "caught", "matched"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.matched_right += other.matched_right
        self.strong += other.strong
        self.strong_right += other.strong_right
        self.missed += other.missed


def rate(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else float("nan")


def judge_case(service: SearchService, case: Case) -> Tally:
    """One query's contribution to the tally."""
    result = service.search(SearchQuery(text=case.text, limit=LIMIT, collapse_duplicates=False))
    tally = Tally()
    if case.family != "real":
        tally.nonsense = 1
        tally.caught = int(result.no_good_match)
        tally.missed = [] if result.no_good_match else [f"{case.family}: {case.text}"]
        return tally
    for hit in result.hits:
        if hit.match in ("strong", "weak"):
            tally.matched += 1
            tally.matched_right += hit.id in case.right
        if hit.match == "strong":
            tally.strong += 1
            tally.strong_right += hit.id in case.right
    if result.hits and result.hits[0].id in case.right:
        tally.answered = 1
        tally.false_alarms = int(result.no_good_match)
        tally.missed = [f"false alarm: {case.text}"] if result.no_good_match else []
    return tally


def _report_rates(report: Report, key: str, label: str, tally: Tally) -> None:
    report.add(
        f"{key}.false_alarm",
        f"{label}: no_good_match on answered ({tally.answered})",
        "%",
        [rate(tally.false_alarms, tally.answered)],
    )
    report.add(
        f"{key}.catch",
        f"{label}: no_good_match on nonsense ({tally.nonsense})",
        "%",
        [rate(tally.caught, tally.nonsense)],
    )


def _report_pictures(report: Report, name: str, tally: PictureTally) -> None:
    t = tally
    for kind, label in (("similar", "more like this"), ("photo", "photo query")):
        answered = getattr(t, f"{kind}_answered")
        report.add(
            f"{name}.{kind}.false_alarm",
            f"{name}: {label} flagged when answered ({answered})",
            "%",
            [rate(getattr(t, f"{kind}_false_alarms"), answered)],
        )
    report.add(
        f"{name}.photo.catch",
        f"{name}: foreign photo flagged ({t.foreign})",
        "%",
        [rate(t.foreign_caught, t.foreign)],
    )


def run_relevance(encoder: Encoder, params: RelevanceParams) -> Report:
    """Build each collection, run every query, and report the rates (see the module)."""
    encoder.load()
    report = Report("relevance", asdict(params))
    pooled: dict[tuple[str, str], Tally] = defaultdict(Tally)
    enrichers = build_enrichers(params.enrichers) if params.enrichers else None
    for collection in collections(encoder, per_class=params.per_class, enrichers=enrichers):
        service = SearchService(
            collection.index,
            encoder,
            alias="loupe",
            cache_size=0,
            max_in_flight=4,
            batch_wait_ms=0.5,
        )
        parts: dict[tuple[str, str], Tally] = defaultdict(Tally)
        try:
            for case in collection.cases:
                split = SPLITS[held_out(case.text)]
                parts[(split, language(case.text))].add(judge_case(service, case))
            pictures = judge_pictures(service, collection)
            cut = service.calibrator.cut("eval", encoder)
        finally:
            service.close()
        name = collection.name
        whole = Tally()
        for split in SPLITS:
            both = Tally()
            for lang in ("en", "zh"):
                both.add(parts[(split, lang)])
                pooled[(split, lang)].add(parts[(split, lang)])
            _report_rates(report, f"{name}.{split}", f"{name}, {split}", both)
            whole.add(both)
        report.add(
            f"{name}.match_precision",
            f"{name}: matches that are right",
            "%",
            [rate(whole.matched_right, whole.matched)],
        )
        report.add(
            f"{name}.strong_precision",
            f"{name}: strong matches that are right",
            "%",
            [rate(whole.strong_right, whole.strong)],
        )
        _report_pictures(report, name, pictures)
        report.details[name] = {
            "photos": collection.photos,
            "cut": cut,
            "pictures": asdict(pictures),
            **{f"{s}.{lang}": asdict(t) for (s, lang), t in sorted(parts.items())},
        }
        report.notes.append(
            f"{name}: {collection.photos} photos, cut {cut:.3f}; "
            f"{whole.answered} answered queries, {whole.nonsense} nonsense"
        )
    for (split, lang), tally in sorted(pooled.items()):
        _report_rates(report, f"all.{split}.{lang}", f"all collections, {split}, {lang}", tally)
    return report
