"""Per-key limits: requests per second and upload bytes per hour, as token buckets.

Each key has its own buckets in this process (replicas each allow the limit). A key's own
limits win; otherwise the server-wide defaults apply (0 = no limit). Over a limit the caller
gets Overloaded (429) with the seconds until enough has refilled (``Retry-After``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from loupe.api.access.keys import ANONYMOUS, Principal
from loupe.search.errors import Overloaded, PayloadTooLarge

HOUR_S = 3600.0


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class Limiter:
    def __init__(
        self,
        *,
        requests_per_s: float = 0.0,
        upload_bytes_per_hour: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rps = requests_per_s
        self._bph = upload_bytes_per_hour
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def _take(self, who: str, kind: str, amount: float, capacity: float, rate: float) -> float:
        """Take ``amount``; 0.0 when granted, else the seconds until it would be."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.setdefault((who, kind), _Bucket(capacity, now))
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            if bucket.tokens >= amount:
                bucket.tokens -= amount
                return 0.0
            return (amount - bucket.tokens) / rate

    @staticmethod
    def _who(principal: Principal) -> str | None:
        if principal == ANONYMOUS:
            return None  # an open server: nobody to tell apart
        return principal.key_id or principal.name

    def request(self, principal: Principal) -> None:
        rate = principal.requests_per_s or self._rps
        who = self._who(principal)
        if who is None or rate <= 0:
            return
        wait = self._take(who, "requests", 1.0, max(1.0, rate), rate)
        if wait:
            raise Overloaded(
                f"this key may make {rate:g} requests per second", retry_after=math.ceil(wait)
            )

    def upload(self, principal: Principal, size: int) -> None:
        allowance = principal.upload_bytes_per_hour or self._bph
        who = self._who(principal)
        if who is None or allowance <= 0:
            return
        if size > allowance:
            raise PayloadTooLarge(f"this key may upload {allowance} bytes per hour")
        wait = self._take(who, "upload", float(size), float(allowance), allowance / HOUR_S)
        if wait:
            raise Overloaded(
                f"this key may upload {allowance} bytes per hour", retry_after=math.ceil(wait)
            )
