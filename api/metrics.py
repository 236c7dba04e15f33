"""Prometheus metrics, in a registry owned by the app (not the global one), plus a middleware
that gives each request an id, times it by route and logs one structured line."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger("loupe.access")


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
            "loupe_errors_total", "Error responses by type.", ["type"], registry=self.registry
        )
        self.queue_depth = Gauge(
            "loupe_queue_depth", "Ingestion tasks waiting.", registry=self.registry
        )
        self.items_ingested = Gauge(
            "loupe_items_ingested",
            "Items done by unfinished and recent jobs.",
            registry=self.registry,
        )
        self.points = Gauge(
            "loupe_points", "Points in the live collection.", registry=self.registry
        )
        self.encoder_batch = Histogram(
            "loupe_encoder_batch_size",
            "Images per forward pass (micro-batches).",
            registry=self.registry,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
        )

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def _route_of(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))


def install(app: FastAPI, metrics: Metrics) -> None:
    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        request.state.request_id = request_id
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = time.perf_counter() - started
        route = _route_of(request)
        metrics.latency.labels(request.method, route, str(response.status_code)).observe(elapsed)
        if response.status_code >= 400:
            metrics.errors.labels(str(response.status_code)).inc()
        response.headers["X-Request-ID"] = request_id
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if route != "/metrics":
            log.info(
                json.dumps(
                    {
                        "request_id": request_id,
                        "method": request.method,
                        "route": route,
                        "status": response.status_code,
                        "ms": round(elapsed * 1000, 2),
                    }
                )
            )
        return response
