"""How work units reach the pipeline: the ``Dispatcher`` protocol that ``ingest.service`` hands
work to, and the retry policy its implementations share. ``workers/`` provides them: the
in-process runner (embedded mode) and Celery (when ``LOUPE_BROKER_URL`` is set)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol

from loupe.search.errors import Unavailable
from loupe.search.index import IndexUnavailable

TRANSIENT: tuple[type[BaseException], ...] = (Unavailable, IndexUnavailable)
MAX_ATTEMPTS = 8


def backoff_s(attempt: int, *, base: float = 0.5, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter."""
    return float(random.uniform(0, min(cap, base * 2**attempt)))


def chunks(seqs: Sequence[int], size: int) -> list[list[int]]:
    return [list(seqs[i : i + size]) for i in range(0, len(seqs), size)]


class Dispatcher(Protocol):
    def submit(self, job_id: str, seqs: Sequence[int]) -> None:
        """Queue the units for processing; Unavailable if the queue cannot be reached."""

    def ping(self) -> None:
        """Raise Unavailable when the queue is not reachable."""

    def queue_depth(self) -> int:
        """Tasks waiting (best effort)."""

    def close(self) -> None: ...
