"""From a ``SearchQuery`` to its query vector, and how its matches are judged.

The vector is ``search.query.combine`` of the query's parts (its text embedded through the
cache, its photo: a stored item's ``semantic`` vector or an uploaded image encoded now) minus its
negatives (texts, items). The *space* says which calibration judges its hits
(``search.calibration``): ``TEXT`` for text-only queries; for photo-only queries the photo's
``visual`` vector against the hits' (a photo query searches ``semantic``, which finds texts too,
but whether a hit is a photo like it is a question for the image-only features), or ``semantic``
where the collection has no ``visual``; None (not judged) for queries mixing a text and a photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from loupe.search.answer import Live, item_vectors
from loupe.search.cache import QueryCache, embed_texts
from loupe.search.calibration import TEXT
from loupe.search.encoders.text_batcher import TextBatcher
from loupe.search.index.base import SEMANTIC, VISUAL, VectorIndex
from loupe.search.query import SearchQuery, combine, part_weights

Vector = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class QueryVector:
    vector: Vector
    excluded: list[str]  # items the query names (its photo, its negatives): never hits
    space: str | None  # the calibration that judges it (None: not judged)
    judge_by: tuple[str, Vector] | None  # (vector name, vector) when not the searched one


def query_vector(
    index: VectorIndex,
    live: Live,
    query: SearchQuery,
    *,
    cache: QueryCache,
    batcher: TextBatcher,
    negative_weight: float,
) -> QueryVector:
    """The query vector of ``query`` (validated) over ``live`` (see the module docstring)."""

    def stored(item_id: str) -> dict[str, Vector]:
        return item_vectors(index, live, item_id, tenant=query.tenant)

    text_w, image_w = part_weights(query)
    texts = ([query.text] if query.text is not None else []) + list(query.negative_texts)
    embedded = embed_texts(cache, batcher, live.encoder, texts)
    parts: list[tuple[float, Vector]] = []
    if query.text is not None:
        parts.append((text_w, embedded.pop(0)))
    picture: dict[str, Vector] | None = None
    if query.image_id is not None:
        picture = stored(query.image_id)
    elif query.image is not None:
        encoded = live.encoder.encode_images([query.image.convert("RGB")])
        picture = {SEMANTIC: encoded.semantic[0]}
        if encoded.visual is not None:
            picture[VISUAL] = encoded.visual[0]
    if picture is not None:
        parts.append((image_w, picture[SEMANTIC]))
    negatives = list(embedded) + [stored(i)[SEMANTIC] for i in query.negative_ids]
    vector = combine(parts, negatives, negative_weight=negative_weight)
    excluded = [*([query.image_id] if query.image_id else []), *query.negative_ids]
    if picture is None:
        return QueryVector(vector, excluded, TEXT, None)
    if query.text is not None:
        return QueryVector(vector, excluded, None, None)
    if live.has_visual and VISUAL in picture:
        return QueryVector(vector, excluded, VISUAL, (VISUAL, picture[VISUAL]))
    return QueryVector(vector, excluded, SEMANTIC, None)
