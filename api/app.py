"""The FastAPI application: heavy objects are built in the lifespan and live on ``app.state``."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, Response

from loupe.api import errors, metrics
from loupe.api.access.limits import Limiter
from loupe.api.access.service import Access, open_key_store
from loupe.api.routes import admin, health, items, jobs, keys, library, search, storage
from loupe.api.settings import Settings
from loupe.api.watcher import AliasWatcher
from loupe.ingest.service import IngestService
from loupe.ingest.stores import Stores
from loupe.search import evidence_plan
from loupe.search.encoders import EncoderUnavailable
from loupe.search.encoders.pool import EncoderPool
from loupe.search.errors import LoupeError
from loupe.search.service import SearchService
from loupe.workers.dispatchers import make_dispatcher

log = logging.getLogger(__name__)


def build_search(stores: Stores, settings: Settings) -> SearchService:
    return SearchService(
        stores.index,
        stores.live_encoder,
        alias=settings.collection_alias,
        cache_size=settings.query_cache_size,
        max_in_flight=settings.search_concurrency,
        batch_wait_ms=settings.batch_wait_ms,
        max_text_chars=settings.max_text_chars,
        concept_weight=settings.concept_weight,
        evidence=settings.search_evidence,
    )


def create_app(
    settings: Settings, *, encoders: EncoderPool | None = None, freeze_heap: bool = False
) -> FastAPI:
    """The app for ``settings``; pass ``encoders`` to reuse models already loaded.

    ``freeze_heap`` (``loupe serve``): once started, move every object alive to the garbage
    collector's permanent generation (``gc.freeze``). The models, the app and the index
    clients live as long as the process, yet each full collection walked them all: ~140 ms
    with every thread stopped, about every 3 s while photos were being added (measured with
    ``gc.callbacks`` through a ``loupe bench serve`` run at 100k), which was much of the
    searches' and ``/healthz``'s worst times."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            stores = Stores.open(settings, role="api", encoders=encoders)
        except EncoderUnavailable as exc:
            log.error("cannot start: %s", exc)
            raise
        except LoupeError as exc:
            log.error("%s", exc.message)
            raise
        ingest = IngestService(
            stores, dispatcher=make_dispatcher(settings, stores.pipeline), settings=settings
        )
        app.state.access = Access(open_key_store(settings), admin_token=settings.admin_token)
        app.state.limiter = Limiter(
            requests_per_s=settings.key_requests_per_s,
            upload_bytes_per_hour=settings.key_upload_bytes_per_hour,
        )
        app.state.ingest = ingest
        search = build_search(stores, settings)
        app.state.search = search
        stores.live_encoder.load()
        search.embed_query_text("a photo")  # the first user query pays nothing
        search.calibrator.warm(stores.live_encoder)
        evidence_plan.warm()
        search.calibrator.reference(search.collection, stores.live_encoder)
        app.state.watcher = AliasWatcher(ingest, search)
        if freeze_heap:
            gc.collect()
            gc.freeze()
        log.info(
            "loupe ready: model %s, collection %s", stores.live_encoder.model_id, search.collection
        )
        try:
            yield
        finally:
            if freeze_heap:
                gc.unfreeze()
            app.state.watcher.close()
            search.close()
            app.state.access.close()
            ingest.close()

    app = FastAPI(
        title="Loupe",
        version="0.1.0",
        lifespan=lifespan,
        description="Cross-modal semantic search: texts and images in one vector space.",
    )
    app.state.settings = settings
    app.state.search = None
    app.state.metrics = metrics.Metrics()
    errors.install(app)
    metrics.install(app, app.state.metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
        )
    for module in (health, items, library, jobs, search, admin, keys, storage):
        app.include_router(module.router)
    _static(app)
    return app


def _static(app: FastAPI) -> None:
    static = resources.files("loupe.api") / "static"

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse((static / "index.html").read_text(encoding="utf-8"))

    @app.get("/static/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
        suffix = "." + name.rpartition(".")[2]
        target = static / name
        if "/" in name or suffix not in types or not target.is_file():
            return Response(status_code=404)
        return Response(
            target.read_bytes(), media_type=types[suffix], headers={"Cache-Control": "no-cache"}
        )
