"""Liveness (/healthz), readiness (/readyz) and Prometheus metrics (/metrics)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from loupe.api.deps import RuntimeDep
from loupe.search.errors import Unavailable
from loupe.search.index import IndexUnavailable

router = APIRouter(tags=["health"])
JOBS_WATCHED = 500  # the newest jobs whose progress feeds loupe_items_ingested_total


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(runtime: RuntimeDep, request: Request) -> JSONResponse:
    """Encoder loaded, index reachable, broker reachable (when configured), and room on disk
    (storage ok or low; full = writes refused, so not ready)."""
    checks: dict[str, str] = {}
    search = request.app.state.search
    checks["encoder"] = "ok" if search is not None else "loading"
    try:
        live = runtime.index.resolve_alias(runtime.settings.collection_alias)
        checks["index"] = "ok" if live else "no live collection"
    except IndexUnavailable:
        checks["index"] = "unreachable"
    try:
        if runtime.dispatcher is not None:
            runtime.dispatcher.ping()
        runtime.jobs.ping()
        checks["queue"] = "ok"
    except Unavailable:
        checks["queue"] = "unreachable"
    storage = runtime.storage.state() if runtime.storage is not None else None
    checks["storage"] = storage.level.value if storage is not None else "ok"
    ready = all(v == "ok" or (k, v) == ("storage", "low") for k, v in checks.items())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics")
def metrics(runtime: RuntimeDep, request: Request) -> Response:
    """Prometheus text: request latency by route, errors by type, queue depth, items ingested,
    points in the live collection, encoder batch sizes."""
    m = request.app.state.metrics
    try:
        if runtime.dispatcher is not None:
            m.queue_depth.set(runtime.dispatcher.queue_depth())
        m.observe_jobs(runtime.jobs.recent(limit=JOBS_WATCHED))
    except Unavailable:
        pass
    try:
        live = runtime.index.resolve_alias(runtime.settings.collection_alias)
        if live:
            m.points.set(runtime.index.count(live))
    except IndexUnavailable:
        pass
    for batcher in runtime.encoders.batchers():
        # Swap the list (one atomic rebinding) rather than copy-then-clear, which dropped the
        # batches recorded in between.
        sizes, batcher.batch_sizes = batcher.batch_sizes, []
        for size in sizes:
            m.encoder_batch.observe(size)
    rendered: Response = m.render()
    return rendered
