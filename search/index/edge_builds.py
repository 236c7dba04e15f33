"""The build driver of an ``EdgeIndex``: it advances the base builds of the open collections.

A background thread (when ``auto``) polls every open collection each ``POLL_S``: a running
builder child is checked; a finished one's base is loaded by a new host process (``edge_host``)
outside the index's lock and swapped in under it, and the old bases' hosts are then closed; a
failed one is aborted (its inputs stay as bases); and a collection whose tail is due starts a
new build. ``wait`` drives one collection's build to its end for ``optimize``.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time

from loupe.search.index.base import IndexUnavailable
from loupe.search.index.edge_collection import EdgeCollection
from loupe.search.index.edge_host import BaseHost

log = logging.getLogger(__name__)

POLL_S = 0.5


class BuildDriver:
    """Drives the builds of ``collections`` (the index's open collections, shared, not copied),
    each step under ``lock`` (the index's); ``auto``: start builds when a collection is due."""

    def __init__(
        self, lock: threading.RLock, collections: dict[str, EdgeCollection], *, auto: bool
    ) -> None:
        self._lock = lock
        self._open = collections
        self._auto = auto
        self._swap_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if auto:
            self._thread = threading.Thread(target=self._loop, name="edge-builder", daemon=True)
            self._thread.start()

    def wait(self, name: str) -> None:
        """Poll the build of ``name`` until it has been swapped in (or none runs).
        IndexUnavailable if the build fails."""
        while True:
            state = self.poll(name)
            if state is None:
                return
            if state == "failed":
                raise IndexUnavailable(f"building the index of {name!r} failed; see the log")
            time.sleep(POLL_S / 5)

    def poll(self, name: str) -> str | None:
        """Advance the build of ``name``: None when none runs (any more), else its state."""
        with self._swap_lock:
            with self._lock:
                opened = self._open.get(name)
                if opened is None or not opened.building():
                    return None
                code = opened.finished()
                if code is None:
                    return "running"
                build = opened.layers.build
                assert build is not None
                if code != 0:
                    log.error("building %s of %s failed (exit %s)", build.target, name, code)
                    opened.abort()
                    return "failed"
            # Loaded by its own host process, outside the lock: the old bases keep answering.
            target = BaseHost(opened.folder / build.target, pin_mb=opened.pin_mb)
            with self._lock:
                removed, retired = opened.swap(target)
            for host in retired:
                host.close()
            for folder in removed:
                shutil.rmtree(opened.folder / folder, ignore_errors=True)
            log.info("%s: swapped in %s", name, build.target)
            return None

    def stop(self) -> None:
        """Stop the background thread (a build in progress is the collections' to stop)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(POLL_S):
            with self._lock:
                names = list(self._open)
            for name in names:
                try:
                    if self.poll(name) is None and self._auto:
                        with self._lock:
                            opened = self._open.get(name)
                            if opened is not None and opened.due():
                                opened.start()
                except Exception:  # keep serving; the next round tries again
                    log.exception("index build step of %s failed", name)
