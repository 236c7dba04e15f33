"""Liveness (/healthz), readiness (/readyz) and Prometheus metrics (/metrics)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api.deps import RuntimeDep
from search.errors import Unavailable
from search.index import IndexUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(runtime: RuntimeDep, request: Request) -> JSONResponse:
    """Encoder loaded, index reachable, broker reachable (when configured)."""
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
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics")
def metrics(runtime: RuntimeDep, request: Request) -> Response:
    m = request.app.state.metrics
    if runtime.dispatcher is not None:
        m.queue_depth.set(runtime.dispatcher.queue_depth())
    try:
        live = runtime.index.resolve_alias(runtime.settings.collection_alias)
        if live:
            m.points.set(runtime.index.count(live))
    except IndexUnavailable:
        pass
    for batcher in runtime.encoders.batchers():
        sizes, batcher.batch_sizes[:] = list(batcher.batch_sizes), []
        for size in sizes:
            m.encoder_batch.observe(size)
    rendered: Response = m.render()
    return rendered
