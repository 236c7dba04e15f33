"""What a search asks (``SearchQuery``), what it answers (``SearchResult``), and the vector maths
that turns a query's parts into one query vector.

Query vector (``combine``):

* each present part is a unit vector in the shared (``semantic``) space: the text's embedding,
  and the image's (``image_id``: the stored point's ``semantic`` vector; ``image``: the encoded
  upload);
* parts are mixed with the query's weights normalised to sum 1 over the parts present (default
  ``text 1 : image 1``, i.e. 0.5/0.5): ``p = normalise(w_t·t + w_i·i)``;
* negatives (``negative_texts`` embedded like queries, ``negative_ids`` by their stored
  ``semantic`` vectors) steer away by subtraction, Rocchio style:
  ``q = normalise(p - β·mean(negatives))`` with ``β = negative_weight`` (default 0.5). We chose
  subtraction over Qdrant's best-score recommend strategy because it is one ordinary nearest
  neighbour search (exact pagination, calibrated scores on the same scale as plain queries).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from loupe.search.errors import InvalidInput
from loupe.search.index.base import TENANT_FIELD, Filter

MAX_LIMIT = 200
MAX_OFFSET = 10_000
MAX_NEGATIVES = 16
DEFAULT_WEIGHTS: Mapping[str, float] = {"text": 1.0, "image": 1.0}
WEIGHT_KEYS = frozenset(DEFAULT_WEIGHTS)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """One search. At least one of ``text``, ``image_id`` or ``image`` (not both image kinds).

    ``weights`` mixes text and image ({"text": 0.7, "image": 0.3}); ``negative_texts`` and
    ``negative_ids`` steer away; ``filter`` restricts candidates; ``limit`` 1..200 and ``offset``
    0..10000 page through the results (offsets count folded hits, not raw points);
    ``score_threshold`` drops hits scoring below it; ``collapse_duplicates`` folds near-identical
    images; ``with_vectors`` returns each hit's stored vectors. The ``image_id`` item and the
    ``negative_ids`` items are never returned. ``tenant`` confines the search to one tenant's
    items, including the items named by ``image_id`` and ``negative_ids`` (None: no tenant).
    """

    text: str | None = None
    image_id: str | None = None
    image: Image.Image | None = None
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    negative_texts: Sequence[str] = ()
    negative_ids: Sequence[str] = ()
    filter: Filter | None = None
    limit: int = 10
    offset: int = 0
    score_threshold: float | None = None
    collapse_duplicates: bool = True
    with_vectors: bool = False
    tenant: str | None = None


@dataclass(frozen=True, slots=True)
class Seen:
    """Evidence a hit held for its query (``search.evidence``): ``kind`` (text, writing, object,
    colour, light), the query's ``value``, and for text and writing the line read (``detail``)."""

    kind: str
    value: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Why:
    """A concept a hit matched: its id, English and Chinese names, and its part of the score."""

    concept: int
    name: str
    name_zh: str | None
    weight: float


@dataclass(frozen=True, slots=True)
class ResultHit:
    """One (folded) hit. ``duplicates`` holds the ids of near-identical items folded under it
    (best first, among the candidates fetched for the page); ``vectors`` only when asked;
    ``match`` is its calibrated match (``search.calibration.Match`` value: strong, weak, none),
    None when the query is not calibrated (queries that mix a text and a picture); ``seen`` is
    what the enrichers saw in it that the query asked for (``search.evidence.Seen``: text read,
    objects, colours, light); ``why``: the query concepts it matched (``search.fusion``), empty
    for the dense route."""

    id: str
    score: float
    modality: str | None
    payload: dict[str, Any]
    duplicates: list[str] = field(default_factory=list)
    vectors: dict[str, NDArray[np.float32]] | None = None
    match: str | None = None
    seen: list[Seen] = field(default_factory=list)
    why: list[Why] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """A page of hits. ``took_ms`` is measured server-side; ``next_offset`` is None on the last
    page; ``no_good_match`` flags a page whose best match is below the calibrated cut (the hits
    are still returned, so the UI can show them dimmed).

    A calibrated query ranks its matching hits (``match`` strong or weak) before the others;
    ``total_matches`` counts them among the judged candidates (None when not calibrated), and
    ``matches_capped`` says the judged window ended while still finding matches, so there may be
    more than ``total_matches``. ``total`` is how many items the query could return (its filter
    applied), counted on the first page only (None on later pages)."""

    hits: list[ResultHit]
    took_ms: float
    model_id: str
    next_offset: int | None
    no_good_match: bool
    total_matches: int | None = None
    matches_capped: bool = False
    total: int | None = None


def check_text(text: str, *, max_chars: int, what: str = "text") -> str:
    """The text stripped; InvalidInput if it is empty or longer than ``max_chars``."""
    if not isinstance(text, str):
        raise InvalidInput(f"{what} must be a string")
    stripped = text.strip()
    if not stripped:
        raise InvalidInput(f"{what} is empty")
    if len(stripped) > max_chars:
        raise InvalidInput(f"{what} is longer than {max_chars} characters")
    return stripped


def check_page(limit: int, offset: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be an integer in 1..{MAX_LIMIT}")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset must be an integer in 0..{MAX_OFFSET}")


def part_weights(query: SearchQuery) -> tuple[float, float]:
    """(text weight, image weight) normalised over the parts the query has."""
    unknown = set(query.weights) - WEIGHT_KEYS
    if unknown:
        raise InvalidInput(f"unknown weight keys {sorted(unknown)}: use 'text' and 'image'")
    merged = {**DEFAULT_WEIGHTS, **query.weights}
    for key, value in merged.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"weight {key!r} must be a number")
        if not math.isfinite(value) or value < 0:
            raise InvalidInput(f"weight {key!r} must be a finite number >= 0")
    has_image = query.image_id is not None or query.image is not None
    text_w = float(merged["text"]) if query.text is not None else 0.0
    image_w = float(merged["image"]) if has_image else 0.0
    total = text_w + image_w
    if total <= 0:
        raise InvalidInput("the weights of the query's parts are all zero")
    return text_w / total, image_w / total


def validate(query: SearchQuery, *, max_text_chars: int) -> SearchQuery:
    """The query with its texts stripped, or InvalidInput naming the first problem."""
    if query.text is None and query.image_id is None and query.image is None:
        raise InvalidInput("give a text, an image_id or an image")
    if query.image_id is not None and query.image is not None:
        raise InvalidInput("give an image_id or an image, not both")
    if query.image_id is not None and (not isinstance(query.image_id, str) or not query.image_id):
        raise InvalidInput("image_id must be a non-empty string")
    text = None if query.text is None else check_text(query.text, max_chars=max_text_chars)
    check_page(query.limit, query.offset)
    if len(query.negative_texts) > MAX_NEGATIVES or len(query.negative_ids) > MAX_NEGATIVES:
        raise InvalidInput(f"at most {MAX_NEGATIVES} negative texts and {MAX_NEGATIVES} ids")
    negatives = tuple(
        check_text(t, max_chars=max_text_chars, what="negative text") for t in query.negative_texts
    )
    threshold = query.score_threshold
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not math.isfinite(threshold)
    ):
        raise InvalidInput("score_threshold must be a finite number")
    cleaned = replace(query, text=text, negative_texts=negatives)
    part_weights(cleaned)
    return cleaned


def combine(
    parts: Sequence[tuple[float, NDArray[np.float32]]],
    negatives: Sequence[NDArray[np.float32]] = (),
    *,
    negative_weight: float = 0.5,
) -> NDArray[np.float32]:
    """``normalise(normalise(Σ w·v) - β·mean(negatives))`` as a float32 unit vector.

    InvalidInput when the result is the zero vector (negatives cancelling the query exactly).
    """
    positive = _unit(sum((w * v.astype(np.float32) for w, v in parts if w > 0), _zero(parts)))
    if negatives:
        mean_negative = np.mean(np.stack(negatives).astype(np.float32), axis=0)
        positive = _unit(positive - np.float32(negative_weight) * mean_negative)
    if not np.any(positive):
        raise InvalidInput("the query vector is empty (negatives cancel it out)")
    return positive


def _zero(parts: Sequence[tuple[float, NDArray[np.float32]]]) -> NDArray[np.float32]:
    return np.zeros_like(parts[0][1], dtype=np.float32)


def _unit(vector: NDArray[Any]) -> NDArray[np.float32]:
    out = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(out))
    return out / np.float32(norm) if norm > 0 else out


def for_tenant(flt: Filter | None, tenant: str | None) -> Filter | None:
    """``flt`` that also keeps only ``tenant``'s points (None: unchanged)."""
    if tenant is None:
        return flt
    base = flt if flt is not None else Filter()
    return replace(base, equals={**base.equals, TENANT_FIELD: tenant})


def excluding(flt: Filter | None, ids: Sequence[str]) -> Filter | None:
    """``flt`` that also excludes ``ids`` (None stays None when there is nothing to exclude)."""
    if not ids:
        return flt
    base = flt if flt is not None else Filter()
    return replace(base, ids_not=[*base.ids_not, *ids])
