"""The front door of ingestion, as ``search/service.py`` is of queries.

Everything that writes goes through ``IngestService``: uploads (files and texts), bulk jobs,
retry, cancel, item deletion, reindex, rollback, dropping collections, fsck and backups; so do
the reads of stored items and jobs that routes and CLI commands need (inherited from
``IngestReads`` in ``service_reads``). It hands work units to a
``Dispatcher`` (``workers/`` provides the in-process runner and Celery) and never runs the
pipeline itself. Routes call this and nothing below it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from loupe.ingest import backup as backups
from loupe.ingest import enrich_backfill, reindex
from loupe.ingest.backup import BackupReport
from loupe.ingest.blobs import LocalBlobStore
from loupe.ingest.dispatch import Dispatcher
from loupe.ingest.fsck import Fsck, FsckReport
from loupe.ingest.jobs import FINAL_STATES, Job, JobKind, JobState
from loupe.ingest.jobs import resume as resume_job
from loupe.ingest.library import Change, change_items
from loupe.ingest.service_reads import IngestReads
from loupe.ingest.sources import plan_source
from loupe.ingest.stores import collection_name
from loupe.ingest.tenancy import blob_in_use, job_meta
from loupe.ingest.uploads import Accepted, TextItem, UploadFile, image_specs, submit, text_specs
from loupe.search.encoders import EncoderUnavailable
from loupe.search.errors import Conflict, InvalidInput, NotFound, Unavailable
from loupe.search.index import Hit

UPLOADS_REFUSED = "this process does not accept uploads"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Upload:
    """What an upload request queued: the job (None when every item was a duplicate)."""

    job: Job | None
    items: list[Accepted]


class IngestService(IngestReads):
    """The reads of ``IngestReads``, and every write (see the module docstring)."""

    # -- writing ---------------------------------------------------------------------------

    # ``tenant`` (keyword, default None) on the methods below: the library the caller lives
    # in; None is the whole library (see ``ingest.tenancy``).

    def upload_images(
        self,
        files: Sequence[UploadFile],
        *,
        tags: list[str],
        metadata: dict[str, Any],
        tenant: str | None = None,
    ) -> Upload:
        """Store and queue the good files as one job; bad files are refused in the answer (all
        bad: the request is refused)."""
        self._dispatcher(UPLOADS_REFUSED)
        pipeline = self.stores.pipeline
        specs = image_specs(pipeline, files, tags=tags, metadata=metadata, tenant=tenant)
        return self._queue_upload(specs, tenant)

    def upload_texts(self, items: Sequence[TextItem], *, tenant: str | None = None) -> Upload:
        self._dispatcher(UPLOADS_REFUSED)
        return self._queue_upload(text_specs(self.stores.pipeline, items, tenant=tenant), tenant)

    def _queue_upload(self, specs: Sequence[Any], tenant: str | None) -> Upload:
        dispatcher = self._ready_dispatcher()
        job, accepted = submit(self.stores.pipeline, specs, meta=job_meta(tenant))
        if job is not None:
            dispatcher.submit(job.id, list(range(job.total)))
        return Upload(job, accepted)

    def bulk(
        self, source: str, *, tags: list[str], metadata: dict[str, Any], tenant: str | None = None
    ) -> Job:
        """A bulk job over a folder, archive or manifest under ``LOUPE_INGEST_ROOTS``."""
        dispatcher = self._ready_dispatcher()
        self.stores.pipeline.check_space()
        path, units = plan_source(
            source,
            roots=self._settings.ingest_roots,
            blobs=self.stores.blobs,
            max_bytes=self._settings.max_upload_bytes,
            tags=tags,
            metadata=metadata,
            tenant=tenant,
        )
        meta = {"source": source, "source_path": str(path), **job_meta(tenant)}
        job = self.stores.jobs.create(JobKind.BULK, units, meta=meta)
        dispatcher.submit(job.id, [u.seq for u in units])
        return self.stores.jobs.get(job.id)

    def retry(self, job_id: str, *, tenant: str | None = None) -> tuple[Job, int]:
        """Queue the failed units of a job again: the job and how many units went back."""
        self._dispatcher()
        job = self.job(job_id, tenant=tenant)
        if job.state is JobState.CANCELLED:
            raise Conflict("a cancelled job cannot be retried")
        dispatcher = self._ready_dispatcher()
        seqs = self.stores.jobs.retry_failed(job_id)
        if seqs:
            dispatcher.submit(job_id, seqs)
        return self.stores.jobs.get(job_id), len(seqs)

    def cancel(self, job_id: str, *, tenant: str | None = None) -> tuple[Job, bool]:
        """Stop a job that has not finished (a reindex also stops its dual writes): the job and
        whether this call cancelled it (False: it had already finished)."""
        job = self.job(job_id, tenant=tenant)
        cancelled = job.state not in FINAL_STATES
        if cancelled:
            self.stores.jobs.set_state(job_id, JobState.CANCELLED)
            if job.kind is JobKind.REINDEX:
                self.stores.index.delete_alias(self.stores.pipeline.next_alias)
        return self.stores.jobs.get(job_id), cancelled

    def resume(self, job_id: str, *, tenant: str | None = None) -> tuple[Job, int]:
        """Queue again what a cancelled, partial or failed job left (``jobs.resume``)."""
        dispatcher = self._ready_dispatcher()
        self.job(job_id, tenant=tenant)
        job, seqs = resume_job(self.stores.jobs, job_id)
        if seqs:
            dispatcher.submit(job_id, seqs)
        return job, len(seqs)

    def change_items(
        self, ids: Sequence[str], change: Change, *, tenant: str | None = None
    ) -> tuple[list[Hit], list[str]]:
        """Edit tags and metadata of items in every collection (``ingest.library``)."""
        live = self.live_collection()
        if live is None:
            raise Unavailable("there is no live collection")
        return change_items(self.stores.index, ids, change, tenant=tenant, live=live)

    def delete_items(
        self, ids: Sequence[str], *, tenant: str | None = None
    ) -> tuple[list[str], list[str]]:
        """Delete many items: (deleted ids, ids with no such item)."""
        deleted, missing = [], []
        for item_id in dict.fromkeys(ids):
            try:
                deleted.append(self.delete_item(item_id, tenant=tenant).id)
            except NotFound:
                missing.append(item_id)
        return deleted, missing

    def delete_item(self, item_id: str, *, tenant: str | None = None) -> Hit:
        """Remove the item from every collection, and its original and cached thumbnails when
        no other item (another tenant's copy) still uses them."""
        hit = self.item(item_id, tenant=tenant)
        index = self.stores.index
        for info in index.list_collections():
            index.delete(info.name, [item_id])
        key = str(hit.payload["sha256"])
        if blob_in_use(index, key):
            return hit
        self.stores.blobs.delete(key)
        for cached in self._thumbs.cache_dir.glob(f"{key}-*"):
            cached.unlink(missing_ok=True)
        return hit

    def start_reindex(self, *, model: str | None, batch_size: int | None) -> Job:
        """Re-embed every live item into a new collection with ``model`` (default: the live
        one's); searches switch when the job's canary passes."""
        dispatcher = self._ready_dispatcher()
        stores = self.stores
        live, _next = reindex.live_and_next(stores.pipeline)
        if live is None:
            raise Unavailable("there is no live collection")
        spec = model or stores.encoders.spec_of(stores.index.collection_info(live).model_id)
        if not (spec.startswith("bundled") or spec.startswith("clip:")):
            raise InvalidInput("model must be 'bundled' or 'clip:<name or folder>'")
        try:
            model_id = stores.encoders.register(spec).model_id
            started = reindex.start(
                stores.pipeline, model_spec=spec, collection=collection_name(model_id), source=live
            )
        except EncoderUnavailable as exc:
            # Details (the loader's own error, chained) go to the server log; the answer is the
            # first line of our message.
            log.warning("reindex: model %r cannot be loaded", spec, exc_info=exc)
            first = str(exc).splitlines()[0] if str(exc) else "no reason given"
            raise InvalidInput(f"the model cannot be loaded: {first}") from None
        return self._submit_all(dispatcher, started.job.id, batch_size)

    def start_enrich(self, *, everything: bool) -> Job:
        """Look at stored images again with the enrichers switched on now, as an ``enrich``
        job (``everything``: every image, not only those the current enrichers have not seen)."""
        dispatcher = self._ready_dispatcher()
        job = enrich_backfill.start(self.stores.pipeline, everything=everything)
        return self._submit_all(dispatcher, job.id, None)

    def _submit_all(self, dispatcher: Dispatcher, job_id: str, batch_size: int | None) -> Job:
        seqs = self.stores.jobs.queued(job_id)
        chunk = batch_size or self._settings.encode_batch_size
        for start_at in range(0, len(seqs), chunk):
            dispatcher.submit(job_id, seqs[start_at : start_at + chunk])
        return self.stores.jobs.get(job_id)

    def rollback(self) -> tuple[str, str]:
        """Make the collection the last reindex replaced live again: (from, to)."""
        return reindex.rollback(self.stores.pipeline)

    def drop_collection(self, name: str) -> None:
        reindex.droppable(self.stores.pipeline, name)
        self.stores.index.drop_collection(name)

    def fsck(self, *, repair: bool, grace_s: float) -> FsckReport:
        """Blobs against their sha256, points against blobs, jobs against blobs (see
        ``ingest.fsck``); ``repair`` re-links, removes orphans and leftovers."""
        blobs = self.stores.blobs
        return Fsck(
            blobs=blobs if isinstance(blobs, LocalBlobStore) else None,
            index=self.stores.index,
            jobs=self.stores.jobs,
            thumbs_dir=self._thumbs.cache_dir,
            grace_s=grace_s,
        ).run(repair=repair)

    def backup(self, name: str | None) -> tuple[str, BackupReport]:
        """A consistent copy of index, blobs and job records under LOUPE_BACKUP_DIR while
        serving (``loupe restore`` reads it): the folder name and what was copied."""
        folder = self._settings.backup_dir
        if folder is None:
            raise Conflict("set LOUPE_BACKUP_DIR to the folder where backups go")
        name = name or time.strftime("loupe-%Y%m%dT%H%M%SZ", time.gmtime())
        stores = self.stores
        report = backups.backup(
            folder / name,
            index=stores.index,
            blobs=stores.blobs,
            jobs=stores.jobs,
            data_dir=self._settings.data_dir,
        )
        return name, report

    def _dispatcher(self, refusal: str = "this process does not dispatch work") -> Dispatcher:
        if self.dispatcher is None:
            raise Unavailable(refusal)
        return self.dispatcher

    def _ready_dispatcher(self) -> Dispatcher:
        dispatcher = self._dispatcher()
        dispatcher.ping()
        return dispatcher
