"""Domain errors shared by every layer; ``api/errors.py`` maps each to one HTTP status.

InvalidInput→422, NotFound→404, Forbidden→403, Conflict→409, Damaged→410, PayloadTooLarge→413,
Overloaded→429, Unavailable→503, StorageFull→507 (``Unauthorized``, an HTTP concern, lives in
``api/errors.py``). Messages are shown to users: never put filesystem paths or stack traces in
them.
"""

from __future__ import annotations


class LoupeError(Exception):
    """Base of domain errors. ``message`` is safe to show to a client."""

    kind = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(LoupeError):
    kind = "invalid_input"


class NotFound(LoupeError):
    kind = "not_found"


class Forbidden(LoupeError):
    kind = "forbidden"


class Conflict(LoupeError):
    kind = "conflict"


class PayloadTooLarge(LoupeError):
    kind = "payload_too_large"


class Overloaded(LoupeError):
    """Too much work in flight; the client should retry after ``retry_after`` seconds."""

    kind = "overloaded"

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(LoupeError):
    """A dependency (index, broker, blob store) is down: transient, retry later."""

    kind = "unavailable"


class StorageUnavailable(Unavailable):
    """A folder cannot be written (read-only file system, permission denied): 503, transient
    from the client's side; the message names the folder relative to the data folder."""

    kind = "storage_unavailable"


class StorageFull(Unavailable):
    """The disk is (nearly) full: new writes are refused with 507 until space frees. A worker
    treats it as transient (it is an ``Unavailable``) and retries later."""

    kind = "storage_full"


class Damaged(LoupeError):
    """Stored bytes no longer match their checksum (410 Gone: they will not come back)."""

    kind = "damaged"
