"""Units of a job → points, per target model: the CPU-heavy half of ingestion.

``InlineEmbedder`` does it in the calling process (a Celery worker, a CLI run). The API server's
in-process runner uses ``ChildEmbedder`` (``ingest.child_embedder``) instead, which runs the same
``embed_units`` in child processes at low CPU priority, so decoding and forward passes never
take the cores from queries. The enrichers (OCR, faces, colours) run here too, on the decoded
image, so they follow ingestion wherever and at whatever priority it runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from loupe.ingest.blobs import BlobStore
from loupe.ingest.enrich.runner import ENRICH_KEY, Enrichers
from loupe.ingest.jobs import Unit
from loupe.ingest.units import Limits, Prepared, materialize
from loupe.search.encoders import Encoder, TextRole
from loupe.search.encoders.pool import EncoderPool
from loupe.search.errors import LoupeError, Unavailable
from loupe.search.index import SEMANTIC, VISUAL, Point
from loupe.search.index.base import CONCEPTS, SparseVector


@dataclass(slots=True)
class Embedded:
    """What became of a batch of units: points per model_id, the seqs done, the seqs failed
    (with a message for the job record)."""

    points: dict[str, list[Point]] = field(default_factory=dict)
    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    batch_sizes: list[int] = field(default_factory=list)  # image forward passes this batch made


class Embedder(Protocol):
    def embed(self, units: Sequence[Unit], model_ids: Sequence[str]) -> Embedded:
        """Validate, store and embed ``units`` with each of ``model_ids``. Per-item problems
        land in ``failed``; a store that is down raises (the caller retries the batch)."""

    def take_batch_sizes(self) -> list[int]:
        """The image forward-pass sizes recorded since the last call (then forgotten)."""

    def close(self) -> None: ...


def enrich_prepared(
    enrichers: Enrichers, prepared: Sequence[tuple[int, Prepared]]
) -> dict[str, dict[str, Any]]:
    """The enrichers' payload fields of each image item, by item id (once per item, whatever
    the number of target models)."""
    return {p.spec.id: enrichers.run(p.image) for _, p in prepared if p.image is not None}


READ_TEXT_WEIGHT = 0.2  # the text read in an image, in its semantic vector (README "Quality")


def read_text_vectors(encoder: Encoder, texts: Mapping[str, str]) -> dict[str, NDArray[np.float32]]:
    """Passage embeddings of the text read in images (by item id; empty texts left out)."""
    wanted = {key: text for key, text in texts.items() if text.strip()}
    if not wanted:
        return {}
    embedded = encoder.encode_texts(list(wanted.values()), role=TextRole.PASSAGE)
    return {key: np.asarray(embedded[row], np.float32) for row, key in enumerate(wanted)}


def with_read_text(
    semantic: NDArray[np.float32], read: NDArray[np.float32] | None
) -> NDArray[np.float32]:
    """An image's semantic vector with the meaning of the text read in it mixed in (weight
    READ_TEXT_WEIGHT, renormalised), so "pharmacy" finds a sign reading 大药房; unchanged when
    nothing was read."""
    if read is None:
        return semantic
    mixed = np.asarray(semantic, np.float32) + np.float32(READ_TEXT_WEIGHT) * read
    return (mixed / np.float32(np.linalg.norm(mixed))).astype(np.float32)


def points_for(
    encoders: EncoderPool,
    prepared: Sequence[tuple[int, Prepared]],
    model_id: str,
    *,
    enriched: Mapping[str, dict[str, Any]] | None = None,
) -> list[Point]:
    """Vectors for the items, with the model of ``model_id``; with ``enriched``, image payloads
    carry the enrichers' fields under ``enrich`` and the meaning of the text read in an image
    joins its semantic vector (``with_read_text``)."""
    encoder = encoders.get(model_id)
    images = [p for _, p in prepared if p.image is not None]
    texts = [p for _, p in prepared if p.text is not None]
    points: list[Point] = []
    if images:
        batch = [p.image for p in images if p.image is not None]
        ready = encoder.prepare_images(batch)
        vectors = encoders.batcher(model_id).embed(ready, len(batch))
        read = read_text_vectors(
            encoder,
            {i.spec.id: str((enriched or {}).get(i.spec.id, {}).get("text") or "") for i in images},
        )
        for row, item in enumerate(images):
            named = {SEMANTIC: with_read_text(vectors.semantic[row], read.get(item.spec.id))}
            if vectors.visual is not None:
                named[VISUAL] = vectors.visual[row]
            payload = item.spec.payload(model_id=model_id)
            if enriched is not None:
                payload[ENRICH_KEY] = enriched.get(item.spec.id, {})
            sparse = {}
            if vectors.concepts is not None:
                sparse[CONCEPTS] = SparseVector.of(vectors.concepts[row])
            points.append(Point(item.spec.id, named, payload, sparse))
    if texts:
        embedded = encoder.encode_texts([p.text or "" for p in texts], role=TextRole.PASSAGE)
        for row, item in enumerate(texts):
            payload = item.spec.payload(model_id=model_id, text=item.text)
            points.append(Point(item.spec.id, {SEMANTIC: np.asarray(embedded[row])}, payload))
    return points


def embed_units(
    units: Sequence[Unit],
    model_ids: Sequence[str],
    *,
    blobs: BlobStore,
    encoders: EncoderPool,
    limits: Limits,
    enrichers: Enrichers | None = None,
) -> Embedded:
    out = Embedded()
    prepared: list[tuple[int, Prepared]] = []
    for unit in units:
        try:
            prepared.append((unit.seq, materialize(unit.ref, blobs=blobs, limits=limits)))
        except Unavailable:
            raise  # a store is down or full: the whole batch is retried later
        except LoupeError as exc:
            out.failed[unit.seq] = exc.message
    if prepared:
        enriched = enrich_prepared(enrichers or Enrichers([]), prepared)
        for model_id in dict.fromkeys(model_ids):
            out.points[model_id] = points_for(encoders, prepared, model_id, enriched=enriched)
    out.done = [seq for seq, _ in prepared]
    return out


class InlineEmbedder:
    """``embed_units`` in this process (with ``enrichers`` looking at each image)."""

    def __init__(
        self,
        *,
        blobs: BlobStore,
        encoders: EncoderPool,
        limits: Limits,
        enrichers: Enrichers | None = None,
    ) -> None:
        self.blobs = blobs
        self.encoders = encoders
        self.limits = limits
        self.enrichers = enrichers or Enrichers([])

    def embed(self, units: Sequence[Unit], model_ids: Sequence[str]) -> Embedded:
        return embed_units(
            units,
            model_ids,
            blobs=self.blobs,
            encoders=self.encoders,
            limits=self.limits,
            enrichers=self.enrichers,
        )

    def take_batch_sizes(self) -> list[int]:
        sizes: list[int] = []
        for batcher in self.encoders.batchers():
            # Swap the list (one atomic rebinding) rather than copy-then-clear, which dropped
            # the batches recorded in between.
            taken, batcher.batch_sizes = batcher.batch_sizes, []
            sizes.extend(taken)
        return sizes

    def close(self) -> None:
        return None
