"""The reading side of ingestion's front door (``IngestService`` in ``ingest/service.py`` adds
everything that writes): stored items, their originals and thumbnails, jobs, collections, and the
health figures that ``/ready`` and ``/metrics`` report.
"""

from __future__ import annotations

from dataclasses import dataclass

from loupe.ingest import reindex
from loupe.ingest.dispatch import Dispatcher
from loupe.ingest.items import Modality
from loupe.ingest.jobs import Job
from loupe.ingest.settings import IngestSettings
from loupe.ingest.stores import Stores
from loupe.ingest.tenancy import own_job, owns_item
from loupe.ingest.thumbs import Thumbnailer
from loupe.search.encoders import Encoder
from loupe.search.errors import NotFound, Unavailable
from loupe.search.index import CollectionInfo, Hit, IndexState, IndexUnavailable


@dataclass(frozen=True, slots=True)
class Original:
    data: bytes
    mime: str


@dataclass(frozen=True, slots=True)
class CollectionState:
    info: CollectionInfo
    live: bool
    building: bool  # the target of a reindex in progress
    index: IndexState  # its ANN index: points indexed vs pending, a build in progress


class IngestReads:
    """``dispatcher`` is None in a process that does not take work (uploads then answer 503)."""

    def __init__(
        self, stores: Stores, *, dispatcher: Dispatcher | None, settings: IngestSettings
    ) -> None:
        self.stores = stores
        self.dispatcher = dispatcher
        self._settings = settings
        self._thumbs = Thumbnailer(
            stores.blobs, settings.data_dir / "thumbs", size=settings.thumbnail_px
        )

    # -- reading ---------------------------------------------------------------------------

    def job(self, job_id: str, *, tenant: str | None = None) -> Job:
        return own_job(self.stores.jobs.get(job_id), tenant)

    def recent_jobs(self, *, limit: int, tenant: str | None = None) -> list[Job]:
        return self.stores.jobs.recent(limit=limit, tenant=tenant)

    def item(self, item_id: str, *, tenant: str | None = None) -> Hit:
        """The stored point of an item in the live collection (NotFound when there is none,
        or when it is another tenant's)."""
        live = self.live_collection()
        hits = self.stores.index.retrieve(live, [item_id]) if live else []
        if not hits or not owns_item(hits[0], tenant):
            raise NotFound("no item with that id")
        return hits[0]

    def original(self, item_id: str, *, tenant: str | None = None) -> Original:
        hit = self.item(item_id, tenant=tenant)
        data = self.stores.blobs.get(str(hit.payload["sha256"]))
        return Original(data, str(hit.payload.get("mime") or "application/octet-stream"))

    def thumbnail(self, item_id: str, *, tenant: str | None = None) -> bytes:
        """WebP bytes; text items have none (NotFound)."""
        hit = self.item(item_id, tenant=tenant)
        if hit.payload.get("modality") != Modality.IMAGE.value:
            raise NotFound("text items have no thumbnail")
        return self._thumbs.get(str(hit.payload["sha256"]))

    def collections(self) -> list[CollectionState]:
        """Every collection, oldest first, with whether it is live or being built."""
        live, building = reindex.live_and_next(self.stores.pipeline)
        infos = sorted(self.stores.index.list_collections(), key=lambda c: c.created_at)
        index = self.stores.index
        return [
            CollectionState(c, c.name == live, c.name == building, index.index_state(c.name))
            for c in infos
        ]

    def live_collection(self) -> str | None:
        return self.stores.index.resolve_alias(self._settings.collection_alias)

    def encoder_of(self, collection: str) -> Encoder:
        """The encoder that embeds into ``collection`` (built, not necessarily loaded)."""
        model_id = self.stores.index.collection_info(collection).model_id
        return self.stores.encoders.get(model_id)

    # -- health ----------------------------------------------------------------------------

    def readiness(self) -> dict[str, str]:
        """``index``, ``queue`` and ``storage`` checks: "ok" or what is wrong (storage: ok, low
        or full)."""
        checks: dict[str, str] = {}
        try:
            checks["index"] = "ok" if self.live_collection() else "no live collection"
        except IndexUnavailable:
            checks["index"] = "unreachable"
        try:
            if self.dispatcher is not None:
                self.dispatcher.ping()
            self.stores.jobs.ping()
            checks["queue"] = "ok"
        except Unavailable:
            checks["queue"] = "unreachable"
        storage = self.stores.storage.state() if self.stores.storage is not None else None
        checks["storage"] = storage.level.value if storage is not None else "ok"
        return checks

    def storage_space(self) -> tuple[int, int] | None:
        """Free bytes and the reserve kept on the fullest watched disk (cached statvfs)."""
        if self.stores.storage is None:
            return None
        state = self.stores.storage.state()
        return state.free, state.need

    def queue_depth(self) -> int | None:
        """Tasks waiting (best effort); None in a process without a dispatcher."""
        return None if self.dispatcher is None else self.dispatcher.queue_depth()

    def live_points(self) -> int | None:
        live = self.live_collection()
        return self.stores.index.count(live) if live else None

    def live_index_state(self) -> IndexState | None:
        live = self.live_collection()
        return self.stores.index.index_state(live) if live else None

    def take_batch_sizes(self) -> list[int]:
        """The image forward-pass sizes recorded since the last call (then forgotten), wherever
        the ingestion work ran (this process or its low-priority children)."""
        return self.stores.pipeline.embedder.take_batch_sizes()

    def close(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.close()
        self.stores.close()
