"""Micro-batching of image forward passes across threads.

Callers (task threads of a Celery worker, or threads of the in-process runner) decode and
preprocess their images themselves — so CPU work overlaps the forward pass — and hand the
prepared batch here. One thread gathers what arrives within ``wait_ms`` (or until ``max_batch``
images) and runs one forward pass for all of it.
"""

from __future__ import annotations

import queue
import sys
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from loupe.search.encoders import Encoder, ImageVectors


def concat_prepared(parts: list[Any]) -> Any:
    """Join prepared batches (numpy arrays, torch tensors, dicts of them, or lists)."""
    first = parts[0]
    if len(parts) == 1:
        return first
    if isinstance(first, np.ndarray):
        return np.concatenate(parts, axis=0)
    if isinstance(first, dict):
        return {key: concat_prepared([p[key] for p in parts]) for key in first}
    if isinstance(first, list):
        return [x for p in parts for x in p]
    join = getattr(type(first), "join", None)  # an encoder's own prepared type (clip's)
    if join is not None:
        return join(parts)
    torch = sys.modules.get("torch")  # a tensor can only come from a torch already imported
    if torch is not None and isinstance(first, torch.Tensor):
        return torch.cat(parts, dim=0)
    raise TypeError(f"cannot batch prepared inputs of type {type(first).__name__}")


def slice_vectors(vectors: ImageVectors, start: int, stop: int) -> ImageVectors:
    visual = vectors.visual[start:stop] if vectors.visual is not None else None
    concepts = vectors.concepts[start:stop] if vectors.concepts is not None else None
    return ImageVectors(semantic=vectors.semantic[start:stop], visual=visual, concepts=concepts)


@dataclass(slots=True)
class _Request:
    prepared: Any
    count: int
    future: Future[ImageVectors]


class EmbedBatcher:
    """Thread-safe: ``embed(prepared, count)`` blocks until its rows come back."""

    def __init__(self, encoder: Encoder, *, max_batch: int = 64, wait_ms: float = 10.0) -> None:
        self.encoder = encoder
        self.max_batch = max_batch
        self.wait_s = wait_ms / 1000.0
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="embed-batcher", daemon=True)
        self._thread.start()
        self.batch_sizes: list[int] = []

    def embed(self, prepared: Any, count: int) -> ImageVectors:
        if count == 0:
            return self.encoder.embed_prepared(prepared)
        future: Future[ImageVectors] = Future()
        self._queue.put(_Request(prepared, count, future))
        return future.result()

    def _gather(self, first: _Request) -> list[_Request]:
        batch, total = [first], first.count
        while total < self.max_batch:
            try:
                item = self._queue.get(timeout=self.wait_s)
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)
                break
            batch.append(item)
            total += item.count
        return batch

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = self._gather(first)
            try:
                vectors = self.encoder.embed_prepared(concat_prepared([r.prepared for r in batch]))
            except BaseException as exc:  # handed to every waiting caller, who decides
                for request in batch:
                    request.future.set_exception(exc)
                continue
            self.batch_sizes.append(sum(r.count for r in batch))
            del self.batch_sizes[:-1000]
            start = 0
            for request in batch:
                request.future.set_result(slice_vectors(vectors, start, start + request.count))
                start += request.count

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
