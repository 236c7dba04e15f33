"""Reindex and model migration without downtime.

1. ``start``: a shadow collection named after the model and a timestamp is created and the
   ``<alias>__next`` alias points at it, so every upload from now on is written to both the live
   and the shadow collection (dual write). Every live point becomes a unit of a reindex job that
   re-embeds the original from the blob store with the new model.
2. ``finalize`` (run once, by whoever processes the job's last units): a catch-up pass embeds any
   live item still missing from the shadow; the canary then checks that the counts match and that
   a sample of stored images find themselves (top-1, by image) in the shadow. Only then the live
   alias moves to the shadow in one step. A failed canary fails the job and the old collection
   keeps serving.
3. ``rollback`` moves the live alias back to the collection the last reindex replaced.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from loupe.ingest.items import ItemSpec, Modality
from loupe.ingest.jobs import Job, JobKind, JobState, Unit
from loupe.ingest.pipeline import Pipeline
from loupe.ingest.units import Prepared
from loupe.search.errors import Conflict, Damaged, LoupeError, NotFound
from loupe.search.index import SEMANTIC, VISUAL, CollectionInfo, CollectionNotFound

log = logging.getLogger(__name__)
CANARY_SIZE = 5
SCROLL_PAGE = 512


def _all_specs(pipeline: Pipeline, collection: str) -> list[ItemSpec]:
    specs: list[ItemSpec] = []
    offset: str | None = None
    while True:
        hits, offset = pipeline.index.scroll(collection, limit=SCROLL_PAGE, offset=offset)
        specs.extend(ItemSpec.from_payload(h.id, h.payload) for h in hits)
        if offset is None:
            return specs


@dataclass(frozen=True, slots=True)
class Started:
    job: Job
    collection: str


def start(pipeline: Pipeline, *, model_spec: str, collection: str, source: str) -> Started:
    """Create the shadow collection, turn on dual writes and create the reindex job."""
    if pipeline.index.resolve_alias(pipeline.next_alias) is not None:
        raise Conflict("a reindex is already running; wait for it or cancel its job")
    pipeline.check_space()
    encoder = pipeline.encoders.register(model_spec)
    encoder.load()
    pipeline.index.create_collection(
        collection, model_id=encoder.model_id, dim=encoder.dim, visual_dim=encoder.visual_dim
    )
    pipeline.index.set_alias(pipeline.next_alias, collection)
    specs = _all_specs(pipeline, source)
    units = [
        Unit(seq=i, name=s.filename or s.id, ref={"kind": "blob", "spec": s.to_json()})
        for i, s in enumerate(specs)
    ]
    meta = {
        "target": collection,
        "source": source,
        "model": model_spec,
        "model_id": encoder.model_id,
    }
    job = pipeline.jobs.create(JobKind.REINDEX, units, meta=meta)
    if not units:
        finalize(pipeline, job.id)
    return Started(job=pipeline.jobs.get(job.id), collection=collection)


def _catch_up(pipeline: Pipeline, source: str, target: str, model_id: str) -> tuple[int, list[str]]:
    """Embed live items that the shadow still lacks (uploads that raced the dual write, units
    that failed). Returns how many were added and the ids skipped because their original is
    missing or damaged: those cannot be re-embedded by anyone and must not fail the swap."""
    specs = _all_specs(pipeline, source)
    missing: list[ItemSpec] = []
    for start_at in range(0, len(specs), SCROLL_PAGE):
        chunk = specs[start_at : start_at + SCROLL_PAGE]
        have = {h.id for h in pipeline.index.retrieve(target, [s.id for s in chunk])}
        missing.extend(s for s in chunk if s.id not in have)
    added, skipped = 0, []
    for start_at in range(0, len(missing), 32):
        prepared = []
        for i, spec in enumerate(missing[start_at : start_at + 32]):
            try:
                prepared.append((i, _load(pipeline, spec)))
            except (NotFound, Damaged) as exc:
                skipped.append(spec.id)
                log.warning("reindex skips %s: %s", spec.id, exc.message)
            except LoupeError as exc:
                log.warning("catch-up could not embed %s: %s", spec.id, exc.message)
        if prepared:
            pipeline.index.upsert(target, pipeline.points(prepared, model_id, enrich=True))
            added += len(prepared)
    return added, skipped


def _load(pipeline: Pipeline, spec: ItemSpec) -> Prepared:
    from loupe.ingest.units import materialize

    return materialize(
        {"kind": "blob", "spec": spec.to_json()}, blobs=pipeline.blobs, limits=pipeline.limits
    )


def canary(
    pipeline: Pipeline, *, source: str, target: str, model_id: str, skipped: int = 0
) -> str | None:
    """None when the shadow is fit to serve, else why not. ``skipped`` live items (originals
    missing or damaged) are expected to be absent from the shadow."""
    live_count, new_count = pipeline.index.count(source), pipeline.index.count(target)
    if live_count - skipped != new_count:
        return f"counts differ: live {live_count} ({skipped} skipped), new {new_count}"
    images = [s for s in _all_specs(pipeline, target) if s.modality is Modality.IMAGE]
    sample = random.Random(0).sample(images, min(CANARY_SIZE, len(images)))
    if not sample:
        return None
    info = pipeline.index.collection_info(target)
    using = VISUAL if info.visual_dim else SEMANTIC
    prepared = [(i, _load(pipeline, spec)) for i, spec in enumerate(sample)]
    for point in pipeline.points(prepared, model_id):
        hits = pipeline.index.search(target, point.vectors[using], using=using, limit=1)
        if not hits or hits[0].id != point.id:
            return f"item {point.id} does not find itself in the new collection"
    return None


def finalize(pipeline: Pipeline, job_id: str) -> bool:
    """Catch up, check, swap. Runs once per job (claimed); returns True when swapped."""
    if not pipeline.jobs.claim(job_id, "finalize"):
        return False
    job = pipeline.jobs.get(job_id)
    source, target = str(job.meta["source"]), str(job.meta["target"])
    model_id = str(job.meta["model_id"])
    skipped: list[str] = []
    try:
        caught, skipped = _catch_up(
            pipeline, pipeline.index.resolve_alias(pipeline.alias) or source, target, model_id
        )
        live_now = pipeline.index.resolve_alias(pipeline.alias) or source
        problem = canary(
            pipeline, source=live_now, target=target, model_id=model_id, skipped=len(skipped)
        )
    except Exception as exc:  # the old collection must keep serving whatever went wrong
        log.exception("reindex %s could not finish", job_id)
        problem = f"the final check could not run: {type(exc).__name__}"
        caught = 0
    failed = pipeline.jobs.get(job_id).failed
    if failed > len(skipped):
        problem = f"{failed - len(skipped)} items could not be re-embedded"
    pipeline.jobs.update_meta(job_id, {"skipped": len(skipped), "skipped_items": skipped[:50]})
    if problem is not None:
        pipeline.index.delete_alias(pipeline.next_alias)
        pipeline.jobs.set_state(job_id, JobState.FAILED, reason=f"canary failed: {problem}")
        log.warning("reindex %s failed its canary: %s", job_id, problem)
        return False
    pipeline.index.set_alias(pipeline.alias, target)
    pipeline.index.delete_alias(pipeline.next_alias)
    pipeline.jobs.update_meta(job_id, {"swapped": True, "caught_up": caught, "previous": live_now})
    pipeline.jobs.set_state(job_id, JobState.SUCCEEDED)
    log.info("reindex %s: %s is live (model %s)", job_id, target, model_id)
    return True


def rollback(pipeline: Pipeline) -> tuple[str, str]:
    """Point the live alias back at the collection the last swap replaced: (from, to)."""
    live = pipeline.index.resolve_alias(pipeline.alias)
    for job in pipeline.jobs.recent(limit=500):
        if job.kind is JobKind.REINDEX and job.meta.get("swapped") and job.meta["target"] == live:
            previous = str(job.meta["previous"])
            try:
                pipeline.index.collection_info(previous)
            except CollectionNotFound:
                raise Conflict(
                    "the previous collection was deleted; nothing to roll back to"
                ) from None
            pipeline.index.set_alias(pipeline.alias, previous)
            pipeline.jobs.update_meta(job.id, {"swapped": False, "rolled_back": True})
            return str(live), previous
    raise Conflict("no earlier collection to roll back to")


def live_and_next(pipeline: Pipeline) -> tuple[str | None, str | None]:
    return (
        pipeline.index.resolve_alias(pipeline.alias),
        pipeline.index.resolve_alias(pipeline.next_alias),
    )


def droppable(pipeline: Pipeline, name: str) -> CollectionInfo:
    live, shadow = live_and_next(pipeline)
    if name in (live, shadow):
        raise Conflict("that collection is in use (live or being built)")
    for info in pipeline.index.list_collections():
        if info.name == name:
            return info
    raise NotFound("no collection of that name")
