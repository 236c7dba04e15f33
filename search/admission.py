"""Bounded concurrency for the query service: at most ``max_in_flight`` calls run at once; one
more raises ``Overloaded(retry_after=...)`` at once, nothing queues beyond the bound. Index
outages inside a slot (``IndexUnavailable``, or the live collection vanishing) surface as
``Unavailable``; after ``close`` every call does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from loupe.search.errors import Overloaded, Unavailable
from loupe.search.index.base import CollectionNotFound, IndexUnavailable


class Admission:
    """The service's in-flight bound (see the module docstring)."""

    def __init__(self, max_in_flight: int, *, retry_after: float) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be >= 1")
        self._max_in_flight = max_in_flight
        self._retry_after = retry_after
        self._lock = threading.Lock()
        self._in_flight = 0
        self._closed = False

    @property
    def in_flight(self) -> int:
        """Calls running now (for metrics and tests)."""
        return self._in_flight

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the ``max_in_flight`` slots for the body."""
        with self._lock:
            if self._closed:
                raise Unavailable("the search service is shut down")
            if self._in_flight >= self._max_in_flight:
                raise Overloaded("too many searches in flight", retry_after=self._retry_after)
            self._in_flight += 1
        try:
            yield
        except (IndexUnavailable, CollectionNotFound) as error:
            raise Unavailable("the index is unavailable; retry later") from error
        finally:
            with self._lock:
                self._in_flight -= 1

    def close(self) -> None:
        """Refuse every later call (``Unavailable``). Idempotent."""
        with self._lock:
            self._closed = True
