"""Prometheus metrics, in a registry owned by the app (not the global one), plus a middleware
that gives each request an id, times it by route, counts errors by type and logs one
structured line — for every response, unexpected 500s included."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loupe.api import errors
from loupe.ingest.jobs import Job
from loupe.search.index import IndexState

log = logging.getLogger("loupe.access")
_SANE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "loupe_http_request_seconds",
            "HTTP request latency by route.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.errors = Counter(
            "loupe_errors_total",
            "Error responses by error type (invalid_input, not_found, internal...).",
            ["type"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "loupe_queue_depth", "Ingestion tasks waiting.", registry=self.registry
        )
        self.items_ingested = Counter(
            "loupe_items_ingested",
            "Items stored by jobs (upload, bulk, reindex), seen in the job store.",
            ["kind"],
            registry=self.registry,
        )
        self.points = Gauge(
            "loupe_points", "Points in the live collection.", registry=self.registry
        )
        self.index_points = Gauge(
            "loupe_index_points",
            "Points of the live collection by index state: indexed (HNSW built) or pending "
            "(searched exactly until the next build).",
            ["state"],
            registry=self.registry,
        )
        self.index_building = Gauge(
            "loupe_index_building",
            "1 while an index build of the live collection runs (in a child process).",
            registry=self.registry,
        )
        self.index_build_progress = Gauge(
            "loupe_index_build_progress",
            "Progress of the running index build, 0..1 (0 when none runs).",
            registry=self.registry,
        )
        self.index_last_build = Gauge(
            "loupe_index_last_build_seconds",
            "Duration of the live collection's last index build.",
            registry=self.registry,
        )
        self.index_pinned = Gauge(
            "loupe_index_pinned_bytes",
            "Bytes of the live collection's built index locked in RAM (embedded store).",
            registry=self.registry,
        )
        self.storage_free = Gauge(
            "loupe_storage_free_bytes",
            "Free bytes on the fullest disk Loupe writes to (data, blobs, embedded index).",
            registry=self.registry,
        )
        self.storage_reserve = Gauge(
            "loupe_storage_reserve_bytes",
            "Free bytes under which writes are refused (LOUPE_DISK_FLOOD_FREE on that disk).",
            registry=self.registry,
        )
        self.encoder_batch = Histogram(
            "loupe_encoder_batch_size",
            "Images per forward pass (micro-batches).",
            registry=self.registry,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
        )

        self._started = time.time()
        self._done_seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def observe_jobs(self, jobs: Iterable[Job]) -> None:
        """Count the items jobs finished since the last look. Jobs created before this process
        started count from the first look (so a restart does not re-count history)."""
        with self._lock:
            for job in jobs:
                seen = self._done_seen.get(job.id)
                if seen is None:
                    seen = 0 if job.created_at >= self._started else job.done
                if job.done > seen:
                    self.items_ingested.labels(job.kind.value).inc(job.done - seen)
                self._done_seen[job.id] = max(seen, job.done)

    def observe_index(self, state: IndexState) -> None:
        self.index_points.labels("indexed").set(state.indexed)
        self.index_points.labels("pending").set(state.pending)
        self.index_building.set(1 if state.building else 0)
        self.index_build_progress.set(state.build_progress or 0.0)
        if state.last_build_s is not None:
            self.index_last_build.set(state.last_build_s)
        if state.pinned_bytes is not None:
            self.index_pinned.set(state.pinned_bytes)

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def _request_id(incoming: str | None) -> str:
    """The caller's X-Request-ID when it is a sane token, else a fresh one."""
    if incoming and _SANE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex[:16]


def _route_of(scope: Scope) -> str:
    return str(getattr(scope.get("route"), "path", "unmatched"))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class Observe:
    """Plain ASGI middleware (Starlette's ``BaseHTTPMiddleware`` added ~0.2 ms to every request,
    measured): request id (the caller's ``X-Request-ID`` when sane), latency by route, error
    counts by type, ``nosniff``, and one JSON access-log line. An exception that escapes the
    app before the response starts becomes ``errors.unexpected``'s 500, observed like any other.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(_header(scope, b"x-request-id"))
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        responded = False

        async def observed_send(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                responded = True
                status = int(message["status"])
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers.setdefault("X-Content-Type-Options", "nosniff")
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        except Exception as exc:  # the app's last resort, here so the 500 is observed too
            if responded:
                raise  # too late for an error body; still recorded below
            await errors.unexpected(Request(scope), exc)(scope, receive, observed_send)
        finally:
            self._record(scope, state, request_id, status, time.perf_counter() - started)

    def _record(
        self, scope: Scope, state: dict[str, object], request_id: str, status: int, elapsed: float
    ) -> None:
        route = _route_of(scope)
        method = str(scope["method"])
        self.metrics.latency.labels(method, route, str(status)).observe(elapsed)
        if status >= 400:
            kind = state.get("error_type") or f"http_{status}"
            self.metrics.errors.labels(str(kind)).inc()
        if route != "/metrics" and log.isEnabledFor(logging.INFO):
            line = {
                "request_id": request_id,
                "method": method,
                "route": route,
                "status": status,
                "ms": round(elapsed * 1000, 2),
            }
            log.info(json.dumps(line))


def install(app: FastAPI, metrics: Metrics) -> None:
    app.add_middleware(Observe, metrics=metrics)
