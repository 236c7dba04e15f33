"""Admin: reindex / model migration, rollback, collections. Every route needs the admin token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import Field, StrictInt, StrictStr

from loupe.api.deps import AdminDep, IngestServiceDep, WatcherDep
from loupe.api.routes.jobs import job_model
from loupe.api.schemas import JobModel, Strict

router = APIRouter(prefix="/v1/admin", tags=["admin"])


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
    _: AdminDep, ingest: IngestServiceDep, body: ReindexRequest | None = None
) -> JobModel:
    body = body or ReindexRequest()
    return job_model(ingest.start_reindex(model=body.model, batch_size=body.batch_size))


@router.post("/rollback", response_model=RollbackResponse)
def rollback(_: AdminDep, ingest: IngestServiceDep, watcher: WatcherDep) -> RollbackResponse:
    previous, live = ingest.rollback()
    watcher.check_now()
    return RollbackResponse(previous=previous, live=live)


@router.get("/collections", response_model=list[CollectionModel])
def collections(_: AdminDep, ingest: IngestServiceDep) -> list[CollectionModel]:
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
        )
        for c in ingest.collections()
    ]


@router.delete("/collections/{name}", status_code=204)
def drop_collection(name: str, _: AdminDep, ingest: IngestServiceDep) -> Response:
    ingest.drop_collection(name)
    return Response(status_code=204)
