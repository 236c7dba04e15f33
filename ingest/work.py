"""The units of a job, end to end: the one call the in-process runner and the Celery task make.

``Pipeline.process`` stores the units; when they were the last of a reindex job, the reindex is
finished here (catch up, canary, swap), so the pipeline need not know about reindexing.
"""

from __future__ import annotations

from collections.abc import Sequence

from loupe.ingest.jobs import JobKind, JobState
from loupe.ingest.pipeline import Pipeline
from loupe.ingest.reindex import finalize


def process_units(pipeline: Pipeline, job_id: str, seqs: Sequence[int]) -> int:
    """Embed and store the units ``seqs`` of a job; returns how many were stored. Idempotent,
    like ``Pipeline.process``; transient store errors propagate for the caller to retry."""
    stored = pipeline.process(job_id, seqs)
    job = pipeline.jobs.get(job_id)
    if (
        job.kind is JobKind.REINDEX
        and job.state is not JobState.CANCELLED
        and not pipeline.jobs.queued(job_id)
    ):
        finalize(pipeline, job_id)
    return stored
