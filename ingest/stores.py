"""What an ingesting process opens — blob store, index, job store, encoders and the pipeline over
them — built once from the settings at the entry point (``Stores.open``) and closed at exit.

Only entry points (the app's lifespan, a Celery worker, the CLI, benchmarks) hold a ``Stores``;
routes go through ``ingest.service.IngestService`` and never reach in here."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from dataclasses import dataclass
from typing import Literal

from loupe.ingest.blobs import BlobStore, open_blob_store
from loupe.ingest.child_embedder import ChildEmbedder
from loupe.ingest.embedding import Embedder
from loupe.ingest.enrich.runner import build_enrichers
from loupe.ingest.jobs import JobStore
from loupe.ingest.pipeline import Pipeline
from loupe.ingest.settings import IngestSettings
from loupe.ingest.storage import DiskGuard, Level
from loupe.ingest.units import Limits
from loupe.search.encoders import Encoder
from loupe.search.encoders.pool import EncoderPool
from loupe.search.errors import Conflict, StorageFull, StorageUnavailable
from loupe.search.index import VectorIndex, open_index

log = logging.getLogger(__name__)


def collection_name(model_id: str, *, now: float | None = None) -> str:
    """A new collection's name: the model and a UTC timestamp, e.g. ``bundled-v1-20261128t2130``."""
    slug = re.sub(r"[^a-z0-9]+", "-", model_id.lower()).strip("-")[:48] or "model"
    stamp = time.strftime("%Y%m%dt%H%M%S", time.gmtime(now))
    return f"{slug}-{stamp}"


def open_jobs(settings: IngestSettings) -> JobStore:
    if settings.broker_url:
        from loupe.ingest.jobs_redis import RedisJobStore

        return RedisJobStore(settings.broker_url)
    from loupe.ingest.jobs_sqlite import SqliteJobStore

    return SqliteJobStore(settings.jobs_db)


def disk_guard(settings: IngestSettings) -> DiskGuard:
    """The watermark check over every local folder that receives writes."""
    folders = {"data": settings.data_dir}
    if not settings.blob_url:
        folders["blobs"] = settings.blob_dir
    if not settings.qdrant_url:
        folders["index"] = settings.index_dir
    return DiskGuard(
        folders,
        data_dir=settings.data_dir,
        low=settings.disk_low_free,
        flood=settings.disk_flood_free,
        interval_s=settings.disk_check_interval_s,
    )


def _adopt_orphan(index: VectorIndex, alias: str) -> str | None:
    """The alias points nowhere: a lone collection (a crash between creating it and pointing
    the alias, or a lost alias map with old stamps) goes live; several are refused rather than
    starting with a new, empty library."""
    existing = sorted(index.list_collections(), key=lambda c: c.created_at)
    if not existing:
        return None
    if len(existing) > 1:
        listed = ", ".join(f"{c.name} ({c.model_id}, {c.points} points)" for c in existing)
        raise Conflict(
            f"cannot start: the alias {alias!r} points at no collection but the index holds "
            f"{listed}, and nothing says which was live (index/aliases.json under "
            f'LOUPE_DATA_DIR is lost): write {{"{alias}": "<name>"}} into that file, then start'
        )
    index.set_alias(alias, existing[0].name)
    log.warning(
        "the alias %s pointed at no collection: %s (%d points), the only one, is live again",
        alias,
        existing[0].name,
        existing[0].points,
    )
    return existing[0].name


def ensure_live_collection(
    index: VectorIndex, pool: EncoderPool, alias: str, *, embedded: bool = False
) -> Encoder:
    """The encoder of the live collection, creating the collection on first start. In the
    embedded store (a folder only Loupe uses) collections left without the alias are adopted
    or refused, never silently replaced by a new empty one."""
    live = index.resolve_alias(alias)
    if live is None and embedded:
        live = _adopt_orphan(index, alias)
    if live is None:
        encoder = pool.default
        encoder.load()
        name = collection_name(encoder.model_id)
        index.create_collection(
            name, model_id=encoder.model_id, dim=encoder.dim, visual_dim=encoder.visual_dim
        )
        index.set_alias(alias, name)
        log.info("created collection %s for %s", name, encoder.model_id)
        return encoder
    info = index.collection_info(live)
    encoder = pool.get(info.model_id)
    if encoder.model_id != pool.default.model_id:
        log.warning(
            "the live collection %s uses %s, not LOUPE_MODEL's %s: serving with %s "
            "(run `loupe reindex --model ...` to switch)",
            live,
            info.model_id,
            pool.default.model_id,
            info.model_id,
        )
    index.open_collection(live, model_id=encoder.model_id, dim=encoder.dim)
    return encoder


@dataclass
class Stores:
    blobs: BlobStore
    index: VectorIndex
    jobs: JobStore
    encoders: EncoderPool
    pipeline: Pipeline
    live_encoder: Encoder
    storage: DiskGuard | None = None

    @classmethod
    def open(
        cls,
        settings: IngestSettings,
        *,
        role: Literal["api", "worker", "cli"],
        encoders: EncoderPool | None = None,
    ) -> Stores:
        """Open everything. ``role``: an API process without a broker embeds in child
        processes; only the CLI may open on a full disk. ``encoders`` lets a caller share loaded
        models between several ``Stores`` (tests, benchmarks); by default a new pool is built
        from the settings."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        storage = disk_guard(settings)
        state = storage.state(fresh=True)
        if role != "cli" and not state.level.writable:
            # The engine grows mmap files; opening or writing them on a full disk dies of SIGBUS.
            refused = StorageFull if state.level is Level.FULL else StorageUnavailable
            raise refused(f"cannot start: {state.sentence()}")
        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        with contextlib.ExitStack() as opened:  # closed again if a later step fails
            blobs = open_blob_store(settings)
            index = open_index(
                url=settings.qdrant_url,
                path=str(settings.index_dir),
                api_key=key,
                shards=settings.qdrant_shards,
                replicas=settings.qdrant_replicas,
                build_after=settings.index_build_after,
                build_nice=settings.ingest_nice,
                pin_mb=settings.index_pin_mb,
            )
            opened.callback(index.close)
            jobs = open_jobs(settings)
            opened.callback(jobs.close)
            pool = encoders or EncoderPool(
                settings.model,
                device=settings.device,
                batch_size=settings.encode_batch_size,
                wait_ms=settings.batch_wait_ms,
                clip_text_model=settings.clip_text_model,
                threads=settings.cpu_threads,
            )
            live = ensure_live_collection(
                index, pool, settings.collection_alias, embedded=not settings.qdrant_url
            )
            limits = Limits(
                max_bytes=settings.max_upload_bytes,
                max_pixels=settings.max_pixels,
                max_text_chars=settings.max_text_chars,
            )
            embedder: Embedder | None = None
            if role == "api" and not settings.broker_url:
                embedder = ChildEmbedder(
                    settings,
                    limits,
                    processes=settings.ingest_processes or os.cpu_count() or 1,
                    nice=settings.ingest_nice,
                    recycle_idle_s=settings.ingest_recycle_idle_s,
                )
                if settings.ingest_prewarm:
                    embedder.warm()
            pipeline = Pipeline(
                blobs=blobs,
                index=index,
                jobs=jobs,
                encoders=pool,
                limits=limits,
                alias=settings.collection_alias,
                embedder=embedder,
                storage=storage,
                enrichers=build_enrichers(settings.enrichers, ocr_min_score=settings.ocr_min_score),
            )
            opened.pop_all()
        return cls(blobs, index, jobs, pool, pipeline, live, storage)

    def close(self) -> None:
        self.pipeline.embedder.close()
        self.encoders.close()
        self.jobs.close()
        self.index.close()
