"""A base shard served from its own process, so no qdrant-edge call on a base holds the serving
process's GIL.

qdrant-edge holds the GIL in every call: ``load`` of a freshly built base took 0.4-0.9 s at 30k
points on this 2-core machine (a freeze of every request, /healthz included, at each swap, and
~10x that at 300k), and each search holds it for its whole run. A ``BaseHost`` child opens one
base folder and answers queries, retrievals, counts and scrolls sent over a pipe; the serving
process waits on the pipe with the GIL released. A swap starts the new base's host, waits until
it has loaded (the old one keeps answering meanwhile), then switches and closes the old one.

The host locks the pages text searches read of its base in RAM (up to ``pin_mb``; see
``edge_pin``) before it says it is ready, so the kernel cannot page them out between searches.

Bases are read only here (``edge_layers``: deletes are tombstones, passed in as the filter's
``ids_not``), so a host writes no point. qdrant-edge itself rewrites the base's
``edge_config.json`` at load (``load_shard`` sets ``SEARCH_THREADS`` there in a base made before
it) and flushes its segments' small state files at close; a build copies those files, it links
only what nothing writes (``edge_build.SHARED_FILES``). The host runs ``edge_reader.ShardReader``;
its answers are plain data, column by column (``edge_columns.Columns``). A host that dies is
started again on the next call (the call is retried once); it dies with its parent.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from loupe.search.index.base import Filter, IndexUnavailable
from loupe.search.index.edge_columns import Columns
from loupe.search.index.edge_pin import pin
from loupe.search.index.edge_reader import ShardReader
from loupe.search.index.edge_requests import RequestFactory
from loupe.search.index.edge_shards import load_shard
from loupe.search.parent_death import die_with_parent

log = logging.getLogger(__name__)
START_TIMEOUT_S = 600.0


def _serve(path: str, conn: Connection, pin_mb: int) -> None:
    die_with_parent()
    try:
        shard = load_shard(Path(path), writable=False)
    except Exception as exc:  # reported to the parent, which raises IndexUnavailable
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    reader = ShardReader(shard)
    pinned = pin(Path(path), pin_mb)  # held until this process exits
    conn.send(("ready", (pinned.bytes, pinned.refused)))
    while True:
        try:
            op, args = conn.recv()
        except EOFError:
            break
        if op == "close":
            break
        try:
            conn.send(("ok", getattr(reader, op)(*args)))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
    shard.close()


class BaseHost:
    """The client side: one base folder served by a child process (started here, loaded
    before this returns), which locks up to ``pin_mb`` of it in RAM; ``pinned_bytes``: how
    much it did."""

    def __init__(self, path: Path, *, pin_mb: int = 0) -> None:
        self.path = path
        self.pin_mb = pin_mb
        self.pinned_bytes = 0
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._start()

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve,
            args=(str(self.path), child, self.pin_mb),
            name=f"loupe-base-{self.path.name}",
        )
        process.daemon = True
        process.start()
        child.close()
        if not parent.poll(START_TIMEOUT_S):
            process.kill()
            raise IndexUnavailable(f"the base {self.path.name} did not open in time")
        try:
            kind, detail = parent.recv()
        except EOFError:
            kind, detail = "error", f"its process exited with {process.exitcode}"
        if kind != "ready":
            process.join(timeout=5)
            raise IndexUnavailable(f"the base {self.path.name} could not be opened: {detail}")
        self.pinned_bytes, refused = detail
        if refused:
            log.warning(
                "base %s: %d MB of it locked in RAM, then the system refused more (%s): "
                "raise RLIMIT_MEMLOCK (ulimit -l) or grant CAP_IPC_LOCK, or lower "
                "LOUPE_INDEX_PIN_MB; the rest may be paged out between searches",
                self.path.name,
                self.pinned_bytes // 2**20,
                refused,
            )
        self._process, self._conn = process, parent

    def _call(self, op: str, *args: Any) -> Any:
        with self._lock:
            for attempt in (1, 2):
                conn = self._conn
                try:
                    if conn is None:
                        raise EOFError
                    conn.send((op, args))
                    kind, value = conn.recv()
                except (EOFError, OSError) as exc:
                    log.warning("the host of base %s died; starting it again", self.path.name)
                    self._stop()
                    if attempt == 2:
                        raise IndexUnavailable(f"the base {self.path.name} is unavailable") from exc
                    self._start()
                    continue
                if kind == "error":
                    raise IndexUnavailable(f"base {self.path.name}: {value}")
                return value
        raise AssertionError("unreachable")

    def query_batch(
        self, asked: list[tuple[RequestFactory, Filter | None]], exact: bool
    ) -> list[Columns]:
        """Every request of a batch in one round trip to the host."""
        found: list[Columns] = self._call("query_batch", asked, exact)
        return found

    def retrieve(self, ids: list[str], with_vectors: bool | list[str]) -> Columns:
        found: Columns = self._call("retrieve", ids, with_vectors)
        return found

    def count(self, flt: Filter | None) -> int:
        return int(self._call("count", flt))

    def scroll(
        self, flt: Filter | None, limit: int, offset: str | None, with_vectors: bool
    ) -> Columns:
        found: Columns = self._call("scroll", flt, limit, offset, with_vectors)
        return found

    def scroll_ordered(
        self, flt: Filter | None, key: str, descending: bool, limit: int, with_payload: bool
    ) -> Columns:
        args = (flt, key, descending, limit, with_payload)
        found: Columns = self._call("scroll_ordered", *args)
        return found

    def missing_indexes(self) -> list[str]:
        """The payload indexes the base lacks (built before they existed)."""
        return list(self._call("missing_indexes"))

    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def _stop(self) -> None:
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(("close", ()))
            conn.close()
        if process is not None:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()

    def close(self) -> None:
        """Close the shard in the child and wait for it to exit."""
        with self._lock:
            self._stop()
