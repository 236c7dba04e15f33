"""Micro-batching of text-query embeddings.

``TextBatcher`` owns one daemon thread. Callers ``submit(encoder, text)`` and wait on the returned
future. The thread takes the first waiting request plus every request already queued (up to
``max_batch``) and runs one ``encode_texts(..., role=QUERY)`` call per distinct encoder in the
batch (identical texts are encoded once). A lone query never waits: concurrent queries that
arrive while the encoder is busy pile up and share the next call. Only when the queue shows
concurrency (a second request was already waiting) does it wait up to ``wait_ms`` more for
stragglers, since more are then likely on their way.

An encoder error fails every future of its group with that error. ``close()`` stops the thread
after the batch in progress; requests still queued then fail with ``RuntimeError``.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from loupe.search.encoders.base import Encoder, TextRole


@dataclass(frozen=True, slots=True)
class _Request:
    encoder: Encoder
    text: str
    future: Future[NDArray[np.float32]]


class TextBatcher:
    """Gathers concurrent text-embedding requests into few ``encode_texts`` calls."""

    def __init__(self, *, max_batch: int = 32, wait_ms: float = 10.0) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        if wait_ms < 0:
            raise ValueError("wait_ms must be >= 0")
        self._max_batch = max_batch
        self._wait_s = wait_ms / 1000.0
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self.batches = 0  # encode_texts calls made, for tests and metrics
        self._thread = threading.Thread(target=self._run, name="loupe-text-batcher", daemon=True)
        self._thread.start()

    def submit(self, encoder: Encoder, text: str) -> Future[NDArray[np.float32]]:
        """Queue ``text`` for embedding by ``encoder``; the future yields a (dim,) unit vector."""
        future: Future[NDArray[np.float32]] = Future()
        with self._lock:
            if self._closed.is_set():
                raise RuntimeError("the text batcher is closed")
            self._queue.put(_Request(encoder, text, future))
        return future

    def pending(self) -> int:
        """Requests queued and not yet taken into a batch (approximate, for metrics/tests)."""
        return self._queue.qsize()

    def close(self) -> None:
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            self._queue.put(None)
        self._thread.join()
        while True:
            try:
                request = self._queue.get_nowait()
            except queue.Empty:
                return
            if request is not None:
                request.future.set_exception(RuntimeError("the text batcher is closed"))

    def _gather(self, first: _Request) -> tuple[list[_Request], bool]:
        batch = [first]
        deadline = time.monotonic() + (self._wait_s if self._queue.qsize() > 0 else 0.0)
        while len(batch) < self._max_batch:
            remaining = deadline - time.monotonic()
            try:
                request = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
            if request is None:
                return batch, True
            batch.append(request)
        return batch, False

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = self._gather(first)
            self._encode(batch)
            if stop:
                return

    def _encode(self, batch: list[_Request]) -> None:
        groups: dict[int, list[_Request]] = {}
        for request in batch:
            groups.setdefault(id(request.encoder), []).append(request)
        for requests in groups.values():
            live = [r for r in requests if r.future.set_running_or_notify_cancel()]
            if not live:
                continue
            texts = list(dict.fromkeys(r.text for r in live))
            try:
                vectors = live[0].encoder.encode_texts(texts, role=TextRole.QUERY)
                self.batches += 1
            except BaseException as error:  # handed to every waiting caller
                for request in live:
                    request.future.set_exception(error)
                continue
            row_of = {text: row for row, text in enumerate(texts)}
            for request in live:
                request.future.set_result(
                    np.asarray(vectors[row_of[request.text]], dtype=np.float32)
                )
