"""Admin: reindex / model migration, enrich backfill, rollback, collections (admin key)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import Field, StrictBool, StrictInt, StrictStr

from loupe.api.access import audit
from loupe.api.deps import IngestServiceDep, LibraryAdminDep, WatcherDep
from loupe.api.routes.jobs import job_model
from loupe.api.schemas import JobModel, Strict
from loupe.search.index import IndexState

router = APIRouter(prefix="/v1/admin", tags=["admin"])
log = logging.getLogger(__name__)


class ReindexRequest(Strict):
    model: Annotated[StrictStr, Field(min_length=1, max_length=512)] | None = Field(
        None, description="'bundled' or 'clip:<name or folder>'; default: the live model."
    )
    batch_size: StrictInt | None = Field(None, ge=1, le=1024)


class IndexStateModel(Strict):
    indexed: int = Field(description="Points in built (HNSW) index structures.")
    pending: int = Field(description="Points searched exactly until the next build merges them.")
    build_running: bool
    build_phase: str | None = Field(None, description="copy, merge or optimize.")
    build_progress: float | None = Field(None, description="0..1 while a build runs.")
    last_build_s: float | None = Field(None, description="Duration of the last build.")
    pinned_bytes: int | None = Field(
        None,
        description="Bytes of the built index locked in RAM for text searches "
        "(LOUPE_INDEX_PIN_MB; embedded store only).",
    )


class CollectionModel(Strict):
    name: str
    model_id: str
    dim: int
    visual_dim: int | None
    points: int
    created_at: float
    live: bool
    building: bool = Field(description="The target of a reindex in progress.")
    index: IndexStateModel


class RollbackResponse(Strict):
    previous: str
    live: str


@router.post("/reindex", status_code=202, response_model=JobModel)
def start_reindex(
    _: LibraryAdminDep,
    ingest: IngestServiceDep,
    request: Request,
    body: ReindexRequest | None = None,
) -> JobModel:
    body = body or ReindexRequest()
    job = ingest.start_reindex(model=body.model, batch_size=body.batch_size)
    audit.request_done(request, "reindex", ids=[job.id], model=str(job.meta["model"]))
    return job_model(job)


class EnrichRequest(Strict):
    all: StrictBool = Field(
        False, description="Every image, not only those enriched with other enrichers (or none)."
    )


@router.post("/enrich", status_code=202, response_model=JobModel)
def start_enrich(
    _: LibraryAdminDep,
    ingest: IngestServiceDep,
    request: Request,
    body: EnrichRequest | None = None,
) -> JobModel:
    """Look at stored images again with the enrichers switched on now (LOUPE_ENRICHERS), as an
    ``enrich`` job: no downtime, progress at GET /v1/jobs/{id}."""
    body = body or EnrichRequest()
    job = ingest.start_enrich(everything=body.all)
    audit.request_done(request, "enrich", ids=[job.id], units=job.total)
    return job_model(job)


@router.post("/rollback", response_model=RollbackResponse)
def rollback(
    _: LibraryAdminDep, ingest: IngestServiceDep, watcher: WatcherDep, request: Request
) -> RollbackResponse:
    previous, live = ingest.rollback()
    watcher.check_now()
    audit.request_done(request, "rollback", ids=[], previous=previous, live=live)
    return RollbackResponse(previous=previous, live=live)


@router.get("/collections", response_model=list[CollectionModel])
def collections(_: LibraryAdminDep, ingest: IngestServiceDep) -> list[CollectionModel]:
    return [
        CollectionModel(
            name=c.info.name,
            model_id=c.info.model_id,
            dim=c.info.dim,
            visual_dim=c.info.visual_dim,
            points=c.info.points,
            created_at=c.info.created_at,
            live=c.live,
            building=c.building,
            index=_index_state(c.index),
        )
        for c in ingest.collections()
    ]


@router.delete("/collections/{name}", status_code=204)
def drop_collection(
    name: str, _: LibraryAdminDep, ingest: IngestServiceDep, request: Request
) -> Response:
    ingest.drop_collection(name)
    audit.request_done(request, "collection.drop", ids=[], collection=name)
    return Response(status_code=204)


def _index_state(state: IndexState) -> IndexStateModel:
    return IndexStateModel(
        indexed=state.indexed,
        pending=state.pending,
        build_running=state.building,
        build_phase=state.build_phase,
        build_progress=state.build_progress,
        last_build_s=state.last_build_s,
        pinned_bytes=state.pinned_bytes,
    )
