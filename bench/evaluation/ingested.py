"""Evaluation points as ingest makes them, for the in-memory collections of ``loupe eval`` and
``loupe bench relevance``: the encoder's vectors (``semantic``, ``visual``) and its sparse
``concepts``; with enrichers, their fields in the payload (``enrich``) and the text read mixed
into the semantic vector (``ingest.embedding.with_read_text``), as the ingest workers do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PIL import Image

from loupe.ingest.embedding import read_text_vectors, with_read_text
from loupe.ingest.enrich.runner import Enrichers
from loupe.search.encoders.base import Encoder
from loupe.search.index.base import CONCEPTS, SEMANTIC, VISUAL, Point, SparseVector
from loupe.search.index.memory_store import NumpyIndex

BATCH = 32  # images encoded at a time


def ingested(
    encoder: Encoder,
    images: Sequence[Image.Image],
    ids: Sequence[str],
    payloads: Sequence[dict[str, Any]],
    enrichers: Enrichers | None = None,
) -> list[Point]:
    """One point per image, with its id and payload (plus ``enrich`` with ``enrichers``)."""
    made: list[Point] = []
    for start in range(0, len(images), BATCH):
        chunk = images[start : start + BATCH]
        vectors = encoder.encode_images(list(chunk))
        seen = [enrichers.run(image) for image in chunk] if enrichers else []
        texts = {str(i): str(fields.get("text") or "") for i, fields in enumerate(seen)}
        read = read_text_vectors(encoder, texts) if seen else {}
        for row in range(len(chunk)):
            named = {SEMANTIC: with_read_text(vectors.semantic[row], read.get(str(row)))}
            if vectors.visual is not None:
                named[VISUAL] = vectors.visual[row]
            payload = dict(payloads[start + row])
            if seen:
                payload["enrich"] = seen[row]
            sparse = {}
            if vectors.concepts is not None:
                sparse[CONCEPTS] = SparseVector.of(vectors.concepts[row])
            made.append(Point(ids[start + row], named, payload, sparse))
    return made


def eval_index(points: Sequence[Point], encoder: Encoder) -> NumpyIndex:
    """An exact in-memory index holding ``points`` in collection ``eval``, alias ``loupe``."""
    index = NumpyIndex()
    index.create_collection(
        "eval", model_id=encoder.model_id, dim=encoder.dim, visual_dim=encoder.visual_dim
    )
    index.upsert("eval", list(points))
    index.set_alias("loupe", "eval")
    return index
