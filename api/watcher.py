"""Keeps the API's query encoder in step with the live alias: when a reindex (run here or by a
worker elsewhere) or a rollback moves the alias, searches switch to the new collection and its
model. Checks every ``interval_s`` and on demand."""

from __future__ import annotations

import logging
import threading

from loupe.ingest.service import IngestService
from loupe.search.index import IndexUnavailable
from loupe.search.service import SearchService

log = logging.getLogger(__name__)


class AliasWatcher:
    def __init__(
        self, ingest: IngestService, search: SearchService, *, interval_s: float = 0.5
    ) -> None:
        self.ingest = ingest
        self.search = search
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="alias-watcher", daemon=True)
        self._thread.start()

    def check_now(self) -> None:
        with self._lock:
            live = self.ingest.live_collection()
            if live is None or live == self.search.collection:
                return
            encoder = self.ingest.encoder_of(live)
            encoder.load()
            self.search.swap(encoder, live)
            log.info("searches now use %s (%s)", live, encoder.model_id)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check_now()
            except IndexUnavailable:
                continue
            except Exception:  # keep watching; the next tick may succeed
                log.exception("alias check failed")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
