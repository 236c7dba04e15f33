"""``loupe eval concepts``: text→image quality of the dense route vs the fused (dense + concept)
route, by query language and type, on the GCompris photo set (``concept_set``).

Every configuration runs the real ``SearchService`` over one ``NumpyIndex`` filled with the
encoder's image points (``semantic``, ``visual``, ``concepts``), folding off, top 10:

* ``dense``: concept weight 0, the dense route alone (what main served before concepts);
* ``fused w=...``: the shipped fusion at each weight;
* ``fused w=..., no up-down``: the same without the concept route's hypernym up-and-down step;
* ``rrf``: reciprocal rank fusion (k=60) of the two routes' full rankings, computed here from
  the same scores, for comparison.

Metrics: ``hit@3`` (a right photo in the top 3) and ``mAP@10`` (average precision over the top
10, divided by min(right photos, 10)), averaged over the queries of each (language, type).
"""

from __future__ import annotations

import io
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from loupe.bench.evaluation.concept_set import CATEGORIES, FOLDERS, SUBJECTS, subject_of
from loupe.bench.evaluation.datasets import DatasetUnavailable
from loupe.bench.evaluation.gcompris import INSTALL_HINT, RCC_DIR, photos
from loupe.bench.evaluation.ingested import eval_index, ingested
from loupe.ingest.enrich.runner import Enrichers
from loupe.search.concepts import ConceptRoute, RouteParams
from loupe.search.encoders.base import Encoder, TextRole, Vectors
from loupe.search.fusion import concept_score, route_of
from loupe.search.index.base import SEMANTIC
from loupe.search.index.memory_store import NumpyIndex
from loupe.search.query import SearchQuery
from loupe.search.service import SearchService

RRF_K = 60


@dataclass(frozen=True, slots=True)
class Photo:
    stem: str
    image: Image.Image
    subject: str | None
    categories: frozenset[str]


@dataclass(frozen=True, slots=True)
class EvalQuery:
    text: str
    lang: str
    kind: str  # subject | phrase | category
    relevant: frozenset[int]


def load_photos(rcc_dir: Path = RCC_DIR) -> list[Photo]:
    """Every photo of the set's folders, with its subject and categories."""
    if not rcc_dir.is_dir():
        raise DatasetUnavailable(f"the concept eval set needs GCompris's data: {INSTALL_HINT}")
    out: list[Photo] = []
    for bundle, folder in FOLDERS:
        for stem, blob in sorted(photos(bundle, folder, rcc_dir=rcc_dir).items()):
            subject = subject_of(stem)
            categories = {c for c, (_, _, folders) in CATEGORIES.items() if folder in folders}
            categories |= set(subject.categories if subject else ())
            image = Image.open(io.BytesIO(blob)).convert("RGB")
            out.append(Photo(stem, image, subject.en if subject else None, frozenset(categories)))
    return out


def queries(photos_: Sequence[Photo]) -> list[EvalQuery]:
    """The subject, phrase and category queries in both languages, with their right photos."""
    out: list[EvalQuery] = []
    for subject in SUBJECTS:
        right = frozenset(i for i, p in enumerate(photos_) if p.subject == subject.en)
        if not right:
            continue
        out += [
            EvalQuery(subject.en, "en", "subject", right),
            EvalQuery(subject.zh, "zh", "subject", right),
            EvalQuery(subject.en_phrase, "en", "phrase", right),
            EvalQuery(subject.zh_phrase, "zh", "phrase", right),
        ]
    for name, (en, zh, _) in CATEGORIES.items():
        right = frozenset(i for i, p in enumerate(photos_) if name in p.categories)
        out += [EvalQuery(en, "en", "category", right), EvalQuery(zh, "zh", "category", right)]
    return out


def scores(ranked: Sequence[int], relevant: frozenset[int]) -> tuple[float, float]:
    """(hit@3, AP@10) of one ranking."""
    top = list(ranked[:10])
    hits, precision_sum = 0, 0.0
    for rank, index in enumerate(top, start=1):
        if index in relevant:
            hits += 1
            precision_sum += hits / rank
    hit3 = float(any(i in relevant for i in top[:3]))
    return hit3, precision_sum / min(len(relevant), 10)


def point_id(i: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"loupe-concept-eval-{i}"))


def fill(
    encoder: Encoder, photos_: Sequence[Photo], enrichers: Enrichers | None = None
) -> NumpyIndex:
    """The photos as ingest stores them (``ingested``), in an exact in-memory index."""
    ids = [point_id(i) for i in range(len(photos_))]
    payloads = [{"modality": "image"} for _ in photos_]
    made = ingested(encoder, [p.image for p in photos_], ids, payloads, enrichers)
    return eval_index(made, encoder)


def run_service(
    index: NumpyIndex,
    encoder: Encoder,
    qs: Sequence[EvalQuery],
    n: int,
    weight: float,
    embedded: Vectors,
) -> list[list[int]]:
    """Top-10 photo indices of each query through a ``SearchService`` at concept ``weight``;
    the query embeddings (``embedded``, computed once in one batch) are put in its cache."""
    ids = {point_id(i): i for i in range(n)}
    service = SearchService(
        index, encoder, alias="loupe", cache_size=len(qs) + 1, max_in_flight=4, batch_wait_ms=0,
        concept_weight=weight,
    )  # fmt: skip
    for q, vector in zip(qs, embedded, strict=True):
        service.cache.put(encoder.model_id, q.text, vector)
    try:
        return [
            [
                ids[h.id]
                for h in service.search(
                    SearchQuery(text=q.text, limit=10, collapse_duplicates=False)
                ).hits
            ]
            for q in qs
        ]
    finally:
        service.close()


def run_rrf(
    index: NumpyIndex, route: ConceptRoute, qs: Sequence[EvalQuery], n: int, text: Vectors
) -> list[list[int]]:
    hits, _ = index.scroll("eval", limit=n, with_vectors=True)
    order = {point_id(i): i for i in range(n)}
    hits = sorted(hits, key=lambda h: order[h.id])
    semantic = np.stack([h.vectors[SEMANTIC] for h in hits if h.vectors])
    out = []
    for q, vector in zip(qs, text, strict=True):
        weights = route.query(q.text).weights
        concept = np.array([concept_score(weights, h) for h in hits])
        fused = np.zeros(n)
        for column in (semantic @ vector, concept):
            ranks = np.empty(n)
            ranks[np.argsort(-column, kind="stable")] = np.arange(1, n + 1)
            fused += np.where(column > 0, 1.0 / (RRF_K + ranks), 0.0)
        out.append([int(i) for i in np.argsort(-fused, kind="stable")[:10]])
    return out


def evaluate_concepts(
    encoder: Encoder, *, weights: Sequence[float] = (0.1, 0.3, 0.5, 1.0), rcc_dir: Path = RCC_DIR
) -> dict[str, object]:
    """Rows ``{config, lang, kind, queries, hit@3, mAP@10}`` for every configuration."""
    photos_ = load_photos(rcc_dir)
    qs = queries(photos_)
    encoder.load()
    route = route_of(encoder)
    index = fill(encoder, photos_)
    text = encoder.encode_texts([q.text for q in qs], role=TextRole.QUERY)
    n = len(photos_)
    runs: dict[str, list[list[int]]] = {"dense": run_service(index, encoder, qs, n, 0.0, text)}
    if route is not None:
        for weight in weights:
            runs[f"fused w={weight:g}"] = run_service(index, encoder, qs, n, weight, text)
        chosen = weights[len(weights) // 2 - 1] if len(weights) > 1 else weights[0]
        params = route.params
        route.params = replace(params, updown=0.0)
        try:
            runs[f"fused w={chosen:g}, no up-down"] = run_service(
                index, encoder, qs, n, chosen, text
            )
        finally:
            route.params = params
        runs["rrf"] = run_rrf(index, route, qs, n, text)
    rows = []
    for config, ranked in runs.items():
        groups: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        for q, ranking in zip(qs, ranked, strict=True):
            pair = scores(ranking, q.relevant)
            groups[(q.lang, q.kind)].append(pair)
            groups[(q.lang, "all")].append(pair)
        for (lang, kind), values in sorted(groups.items()):
            rows.append(
                {
                    "config": config,
                    "lang": lang,
                    "kind": kind,
                    "queries": len(values),
                    "hit@3": float(np.mean([v[0] for v in values])),
                    "mAP@10": float(np.mean([v[1] for v in values])),
                }
            )
    return {
        "dataset": "concepts",
        "model_id": encoder.model_id,
        "photos": len(photos_),
        "queries": len(qs),
        "route": RouteParams().key() if route is None else route.params.key(),
        "rows": rows,
    }
