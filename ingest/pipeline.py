"""The one ingestion pipeline: units of a job → validated items → vectors → points.

Both the in-process runner and the Celery tasks call ``Pipeline.process``. It is idempotent:
point ids are deterministic, so a redelivered batch overwrites what it wrote. Per-item problems
(corrupt file, unreadable member) are recorded on the job and never retried; a store that is
down raises ``Unavailable``/``IndexUnavailable`` so the caller can retry the whole batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from loupe.ingest.blobs import BlobStore
from loupe.ingest.jobs import JobKind, JobState, JobStore
from loupe.ingest.models import EncoderPool
from loupe.ingest.units import Limits, Prepared, materialize
from loupe.search.encoders import TextRole
from loupe.search.errors import LoupeError
from loupe.search.index import SEMANTIC, VISUAL, Point, VectorIndex
from loupe.search.index.base import CONCEPTS, SparseVector

log = logging.getLogger(__name__)

NEXT_SUFFIX = "__next"


@dataclass(frozen=True, slots=True)
class Target:
    collection: str
    model_id: str


class Pipeline:
    def __init__(
        self,
        *,
        blobs: BlobStore,
        index: VectorIndex,
        jobs: JobStore,
        encoders: EncoderPool,
        limits: Limits,
        alias: str,
    ) -> None:
        self.blobs = blobs
        self.index = index
        self.jobs = jobs
        self.encoders = encoders
        self.limits = limits
        self.alias = alias

    @property
    def next_alias(self) -> str:
        """Points at the shadow collection while a reindex runs: writes go there too."""
        return self.alias + NEXT_SUFFIX

    def write_targets(self) -> list[Target]:
        targets: list[Target] = []
        for alias in (self.alias, self.next_alias):
            name = self.index.resolve_alias(alias)
            if name is not None and all(t.collection != name for t in targets):
                targets.append(Target(name, self.index.collection_info(name).model_id))
        return targets

    def _targets_for(self, kind: JobKind, meta: dict[str, object]) -> list[Target]:
        if kind is JobKind.REINDEX:
            name = str(meta["target"])
            return [Target(name, self.index.collection_info(name).model_id)]
        return self.write_targets()

    def process(self, job_id: str, seqs: Sequence[int]) -> int:
        """Embed and store the given units of a job; returns how many were stored."""
        job = self.jobs.get(job_id)
        if job.state is JobState.CANCELLED:
            return 0
        self.jobs.mark_started(job_id)
        prepared: list[tuple[int, Prepared]] = []
        failed: dict[int, str] = {}
        for unit in self.jobs.units(job_id, seqs):
            try:
                prepared.append(
                    (unit.seq, materialize(unit.ref, blobs=self.blobs, limits=self.limits))
                )
            except LoupeError as exc:
                failed[unit.seq] = exc.message
        if prepared:
            for target in self._targets_for(job.kind, job.meta):
                self.index.upsert(target.collection, self.points(prepared, target.model_id))
        self.jobs.mark(job_id, done=[seq for seq, _ in prepared], failed=failed)
        if job.kind is JobKind.REINDEX and not self.jobs.queued(job_id):
            from loupe.ingest.reindex import finalize

            finalize(self, job_id)
        return len(prepared)

    def points(self, prepared: Sequence[tuple[int, Prepared]], model_id: str) -> list[Point]:
        """Vectors for the items, with the model of ``model_id``."""
        encoder = self.encoders.get(model_id)
        images = [p for _, p in prepared if p.image is not None]
        texts = [p for _, p in prepared if p.text is not None]
        points: list[Point] = []
        if images:
            batch = [p.image for p in images if p.image is not None]
            ready = encoder.prepare_images(batch)
            vectors = self.encoders.batcher(model_id).embed(ready, len(batch))
            for row, item in enumerate(images):
                named = {SEMANTIC: vectors.semantic[row]}
                if vectors.visual is not None:
                    named[VISUAL] = vectors.visual[row]
                sparse = {}
                if vectors.concepts is not None:
                    sparse[CONCEPTS] = SparseVector.of(vectors.concepts[row])
                payload = item.spec.payload(model_id=model_id)
                points.append(Point(item.spec.id, named, payload, sparse))
        if texts:
            embedded = encoder.encode_texts([p.text or "" for p in texts], role=TextRole.PASSAGE)
            for row, item in enumerate(texts):
                payload = item.spec.payload(model_id=model_id, text=item.text)
                points.append(Point(item.spec.id, {SEMANTIC: np.asarray(embedded[row])}, payload))
        return points
