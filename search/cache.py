"""``QueryCache``: a thread-safe LRU of text-query embeddings keyed by ``(model_id, text)``;
``embed_texts``: query embeddings through the cache, misses through the ``TextBatcher``."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from loupe.search.encoders.base import Encoder
from loupe.search.encoders.text_batcher import TextBatcher


class QueryCache:
    """At most ``size`` vectors, least recently used evicted first; ``size`` 0 keeps nothing.

    Keys carry the model id, so entries of a swapped-out encoder are never served for the new one
    (they age out). ``hits``/``misses`` count lookups, for metrics.
    """

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("size must be >= 0")
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], NDArray[np.float32]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, model_id: str, text: str) -> NDArray[np.float32] | None:
        with self._lock:
            vector = self._entries.get((model_id, text))
            if vector is None:
                self.misses += 1
                return None
            self._entries.move_to_end((model_id, text))
            self.hits += 1
            return vector

    def put(self, model_id: str, text: str, vector: NDArray[np.float32]) -> None:
        if self._size == 0:
            return
        frozen = np.array(vector, dtype=np.float32)
        frozen.flags.writeable = False
        with self._lock:
            self._entries[(model_id, text)] = frozen
            self._entries.move_to_end((model_id, text))
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def embed_texts(
    cache: QueryCache, batcher: TextBatcher, encoder: Encoder, texts: Sequence[str]
) -> list[NDArray[np.float32]]:
    """The query embeddings of ``texts`` by ``encoder``: cached ones from ``cache``, the others
    (each distinct text once) through ``batcher``, then cached."""
    model_id = encoder.model_id
    found: dict[str, NDArray[np.float32]] = {}
    futures = {}
    for text in dict.fromkeys(texts):
        cached = cache.get(model_id, text)
        if cached is not None:
            found[text] = cached
        else:
            futures[text] = batcher.submit(encoder, text)
    for text, future in futures.items():
        found[text] = future.result()
        cache.put(model_id, text, found[text])
    return [found[t] for t in texts]
