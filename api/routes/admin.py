"""Admin: reindex / model migration, enrich backfill, rollback, collections (admin key)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import Field, StrictBool, StrictInt, StrictStr

from loupe.api.access import audit
from loupe.api.deps import LibraryAdminDep, RuntimeDep
from loupe.api.routes.jobs import job_model
from loupe.api.schemas import JobModel, Strict
from loupe.ingest import enrich_backfill, reindex
from loupe.search.encoders import EncoderUnavailable
from loupe.search.errors import InvalidInput, Unavailable
from loupe.workers.runtime import collection_name

router = APIRouter(prefix="/v1/admin", tags=["admin"])
log = logging.getLogger(__name__)


class ReindexRequest(Strict):
    model: Annotated[StrictStr, Field(min_length=1, max_length=512)] | None = Field(
        None, description="'bundled' or 'clip:<name or folder>'; default: the live model."
    )
    batch_size: StrictInt | None = Field(None, ge=1, le=1024)


class CollectionModel(Strict):
    name: str
    model_id: str
    dim: int
    visual_dim: int | None
    points: int
    created_at: float
    live: bool
    building: bool


class RollbackResponse(Strict):
    previous: str
    live: str


@router.post("/reindex", status_code=202, response_model=JobModel)
def start_reindex(
    _: LibraryAdminDep, runtime: RuntimeDep, request: Request, body: ReindexRequest | None = None
) -> JobModel:
    body = body or ReindexRequest()
    dispatcher = runtime.dispatcher
    if dispatcher is None:
        raise Unavailable("this process does not dispatch work")
    dispatcher.ping()
    pipeline = runtime.pipeline
    live, _next = reindex.live_and_next(pipeline)
    if live is None:
        raise Unavailable("there is no live collection")
    spec = body.model or runtime.encoders.spec_of(runtime.index.collection_info(live).model_id)
    if not (spec.startswith("bundled") or spec.startswith("clip:")):
        raise InvalidInput("model must be 'bundled' or 'clip:<name or folder>'")
    try:
        model_id = runtime.encoders.register(spec).model_id
        started = reindex.start(
            pipeline, model_spec=spec, collection=collection_name(model_id), source=live
        )
    except EncoderUnavailable as exc:
        # Details (the loader's own error, chained) go to the server log; the answer is the
        # first line of our message.
        log.warning("reindex: model %r cannot be loaded", spec, exc_info=exc)
        first = str(exc).splitlines()[0] if str(exc) else "no reason given"
        raise InvalidInput(f"the model cannot be loaded: {first}") from None
    seqs = runtime.jobs.queued(started.job.id)
    chunk = body.batch_size or runtime.settings.encode_batch_size
    for start_at in range(0, len(seqs), chunk):
        dispatcher.submit(started.job.id, seqs[start_at : start_at + chunk])
    audit.request_done(request, "reindex", ids=[started.job.id], model=spec)
    return job_model(runtime.jobs.get(started.job.id))


class EnrichRequest(Strict):
    all: StrictBool = Field(
        False, description="Every image, not only those enriched with other enrichers (or none)."
    )


@router.post("/enrich", status_code=202, response_model=JobModel)
def start_enrich(
    _: LibraryAdminDep, runtime: RuntimeDep, request: Request, body: EnrichRequest | None = None
) -> JobModel:
    """Look at stored images again with the enrichers switched on now (LOUPE_ENRICHERS), as an
    ``enrich`` job: no downtime, progress at GET /v1/jobs/{id}."""
    body = body or EnrichRequest()
    dispatcher = runtime.dispatcher
    if dispatcher is None:
        raise Unavailable("this process does not dispatch work")
    dispatcher.ping()
    job = enrich_backfill.start(runtime.pipeline, everything=body.all)
    seqs = runtime.jobs.queued(job.id)
    chunk = runtime.settings.encode_batch_size
    for start_at in range(0, len(seqs), chunk):
        dispatcher.submit(job.id, seqs[start_at : start_at + chunk])
    audit.request_done(request, "enrich", ids=[job.id], units=len(seqs))
    return job_model(runtime.jobs.get(job.id))


@router.post("/rollback", response_model=RollbackResponse)
def rollback(_: LibraryAdminDep, runtime: RuntimeDep, request: Request) -> RollbackResponse:
    previous, live = reindex.rollback(runtime.pipeline)
    request.app.state.watcher.check_now()
    audit.request_done(request, "rollback", ids=[], previous=previous, live=live)
    return RollbackResponse(previous=previous, live=live)


@router.get("/collections", response_model=list[CollectionModel])
def collections(_: LibraryAdminDep, runtime: RuntimeDep) -> list[CollectionModel]:
    live, building = reindex.live_and_next(runtime.pipeline)
    return [
        CollectionModel(
            name=c.name,
            model_id=c.model_id,
            dim=c.dim,
            visual_dim=c.visual_dim,
            points=c.points,
            created_at=c.created_at,
            live=c.name == live,
            building=c.name == building,
        )
        for c in sorted(runtime.index.list_collections(), key=lambda c: c.created_at)
    ]


@router.delete("/collections/{name}", status_code=204)
def drop_collection(
    name: str, _: LibraryAdminDep, runtime: RuntimeDep, request: Request
) -> Response:
    reindex.droppable(runtime.pipeline, name)
    runtime.index.drop_collection(name)
    audit.request_done(request, "collection.drop", ids=[], collection=name)
    return Response(status_code=204)
