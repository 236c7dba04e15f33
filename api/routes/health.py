"""Liveness (/healthz), readiness (/readyz) and Prometheus metrics (/metrics)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from loupe.api.deps import IngestServiceDep
from loupe.search.errors import Unavailable
from loupe.search.index import IndexUnavailable

router = APIRouter(tags=["health"])
JOBS_WATCHED = 500  # the newest jobs whose progress feeds loupe_items_ingested_total


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers: on the event loop itself, so a probe never waits for a worker
    thread (searches and uploads hold them) nor hops threads under a busy GIL."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(ingest: IngestServiceDep, request: Request) -> JSONResponse:
    """Encoder loaded, index reachable, broker reachable (when configured), and room on disk
    (storage ok or low; full = writes refused, so not ready)."""
    checks = {"encoder": "ok" if request.app.state.search is not None else "loading"}
    checks |= ingest.readiness()
    ready = all(v == "ok" or (k, v) == ("storage", "low") for k, v in checks.items())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics")
def metrics(ingest: IngestServiceDep, request: Request) -> Response:
    """Prometheus text: request latency by route, errors by type, queue depth, items ingested,
    points in the live collection and its index state, free disk space and its reserve,
    encoder batch sizes."""
    m = request.app.state.metrics
    try:
        depth = ingest.queue_depth()
        if depth is not None:
            m.queue_depth.set(depth)
        m.observe_jobs(ingest.recent_jobs(limit=JOBS_WATCHED))
    except Unavailable:
        pass
    try:
        points = ingest.live_points()
        if points is not None:
            m.points.set(points)
        state = ingest.live_index_state()
        if state is not None:
            m.observe_index(state)
    except IndexUnavailable:
        pass
    space = ingest.storage_space()
    if space is not None:
        m.storage_free.set(space[0])
        m.storage_reserve.set(space[1])
    for size in ingest.take_batch_sizes():
        m.encoder_batch.observe(size)
    rendered: Response = m.render()
    return rendered
