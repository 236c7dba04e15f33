"""The one ingestion pipeline: units of a job → validated items → vectors → points.

Both the in-process runner and the Celery tasks reach ``Pipeline.process`` through
``ingest.work.process_units`` (which also finishes a reindex). It is idempotent:
point ids are deterministic, so a redelivered batch overwrites what it wrote. Per-item problems
(corrupt file, unreadable member) are recorded on the job and never retried; a store that is
down raises ``Unavailable``/``IndexUnavailable`` so the caller can retry the whole batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from loupe.ingest.blobs import BlobStore
from loupe.ingest.embedding import Embedder, InlineEmbedder, enrich_prepared, points_for
from loupe.ingest.enrich.runner import Enrichers
from loupe.ingest.jobs import JobKind, JobState, JobStore
from loupe.ingest.storage import DiskGuard
from loupe.ingest.units import Limits, Prepared
from loupe.search.encoders.pool import EncoderPool
from loupe.search.index import Point, VectorIndex

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
        storage: DiskGuard | None = None,
        embedder: Embedder | None = None,
        enrichers: Enrichers | None = None,
    ) -> None:
        """``embedder`` does the CPU work (default: in this process, with ``enrichers``; the API
        server passes a ``ChildEmbedder``, whose children build their own)."""
        self.storage = storage
        self.blobs = blobs
        self.index = index
        self.jobs = jobs
        self.encoders = encoders
        self.limits = limits
        self.alias = alias
        self.enrichers = enrichers or Enrichers([])
        self.embedder = embedder or InlineEmbedder(
            blobs=blobs, encoders=encoders, limits=limits, enrichers=self.enrichers
        )

    def check_space(self, incoming: int = 0) -> None:
        """StorageFull (507) when new writes would cross the disk's flood watermark."""
        if self.storage is not None:
            self.storage.check_write(incoming)

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
        if job.kind is not JobKind.UPLOAD:  # uploads were accepted with their blobs stored
            self.check_space()
        self.jobs.mark_started(job_id)
        targets = self._targets_for(job.kind, job.meta)
        units = self.jobs.units(job_id, seqs)
        embedded = self.embedder.embed(units, [t.model_id for t in targets])
        for target in targets:
            points = embedded.points.get(target.model_id)
            if points:
                self.index.upsert(target.collection, points)
        self.jobs.mark(job_id, done=embedded.done, failed=embedded.failed)
        return len(embedded.done)

    def points(
        self, prepared: Sequence[tuple[int, Prepared]], model_id: str, *, enrich: bool = False
    ) -> list[Point]:
        """Vectors for the items, with the model of ``model_id`` (in this process); with
        ``enrich``, payloads carry the enrichers' fields."""
        enriched = enrich_prepared(self.enrichers, prepared) if enrich else None
        return points_for(self.encoders, prepared, model_id, enriched=enriched)
