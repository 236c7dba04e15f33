"""What an ingesting process opens — blob store, index, job store, encoders and the pipeline over
them — built once from the settings at the entry point (``Stores.open``) and closed at exit.

Only entry points (the app's lifespan, a Celery worker, the CLI, benchmarks) hold a ``Stores``;
routes go through ``ingest.service.IngestService`` and never reach in here."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from loupe.ingest.blobs import BlobStore, open_blob_store
from loupe.ingest.jobs import JobStore
from loupe.ingest.pipeline import Pipeline
from loupe.ingest.units import Limits
from loupe.search.encoders import Encoder
from loupe.search.encoders.pool import EncoderPool
from loupe.search.index import VectorIndex, open_index
from loupe.search.settings import Settings

log = logging.getLogger(__name__)


def collection_name(model_id: str, *, now: float | None = None) -> str:
    """A new collection's name: the model and a UTC timestamp, e.g. ``bundled-v1-20261128t2130``."""
    slug = re.sub(r"[^a-z0-9]+", "-", model_id.lower()).strip("-")[:48] or "model"
    stamp = time.strftime("%Y%m%dt%H%M%S", time.gmtime(now))
    return f"{slug}-{stamp}"


def open_jobs(settings: Settings) -> JobStore:
    if settings.broker_url:
        from loupe.ingest.jobs_redis import RedisJobStore

        return RedisJobStore(settings.broker_url)
    from loupe.ingest.jobs_sqlite import SqliteJobStore

    return SqliteJobStore(settings.jobs_db)


def ensure_live_collection(index: VectorIndex, pool: EncoderPool, alias: str) -> Encoder:
    """The encoder of the live collection, creating the collection on first start."""
    live = index.resolve_alias(alias)
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

    @classmethod
    def open(cls, settings: Settings, *, encoders: EncoderPool | None = None) -> Stores:
        """Open everything. ``encoders`` lets a caller share loaded models between several
        ``Stores`` (tests, benchmarks); by default a new pool is built from the settings."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        blobs = open_blob_store(settings)
        index = open_index(
            url=settings.qdrant_url,
            path=str(settings.index_dir),
            api_key=settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None,
            shards=settings.qdrant_shards,
            replicas=settings.qdrant_replicas,
        )
        jobs = open_jobs(settings)
        pool = encoders or EncoderPool(
            settings.model,
            device=settings.device,
            batch_size=settings.encode_batch_size,
            wait_ms=settings.batch_wait_ms,
            clip_text_model=settings.clip_text_model,
            threads=settings.cpu_threads,
        )
        live = ensure_live_collection(index, pool, settings.collection_alias)
        limits = Limits(
            max_bytes=settings.max_upload_bytes,
            max_pixels=settings.max_pixels,
            max_text_chars=settings.max_text_chars,
        )
        pipeline = Pipeline(
            blobs=blobs,
            index=index,
            jobs=jobs,
            encoders=pool,
            limits=limits,
            alias=settings.collection_alias,
        )
        return cls(blobs, index, jobs, pool, pipeline, live)

    def close(self) -> None:
        self.encoders.close()
        self.jobs.close()
        self.index.close()
