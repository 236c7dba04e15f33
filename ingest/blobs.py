"""Content-addressed blob store: originals are kept once, under the sha256 of their bytes.

Reindex re-embeds from here and thumbnails are cut from here. ``LocalBlobStore`` keeps files
under ``<data_dir>/blobs/ab/cd/<sha256>``; ``S3BlobStore`` (``LOUPE_BLOB_URL=s3://...``) keeps
objects in an S3-compatible bucket.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from loupe.ingest.settings import IngestSettings
from loupe.ingest.storage import reraise
from loupe.search.errors import Damaged, InvalidInput, NotFound

_KEY = re.compile(r"^[0-9a-f]{64}$")


def content_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_key(name: str) -> bool:
    return bool(_KEY.fullmatch(name))


def verified(key: str, data: bytes) -> bytes:
    """``data`` if it still hashes to ``key``; Damaged (410) otherwise."""
    if content_key(data) != key:
        raise Damaged(
            f"the stored original of blob {key} is damaged (its bytes no longer match their "
            "sha256); run `loupe fsck` and upload it again"
        )
    return data


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise InvalidInput("a blob key is 64 lowercase hex characters")
    return key


class BlobStore(Protocol):
    """Stores bytes under their sha256. ``put`` is idempotent; all methods thread-safe."""

    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its key, the sha256 hex digest."""

    def get(self, key: str) -> bytes:
        """The bytes of ``key``; NotFound if absent, Damaged if they no longer match ``key``."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove ``key``; absent keys are ignored."""


class LocalBlobStore:
    """Blobs as files under a folder, written atomically (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = f'the folder "{root.name}" of the data folder'
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reraise(exc, where=self.label)

    def path_of(self, key: str) -> Path:
        """Where the blob ``key`` lives (whether or not it exists)."""
        check_key(key)
        return self.root / key[:2] / key[2:4] / key

    _path = path_of

    def put(self, data: bytes) -> str:
        try:
            return self._put(data)
        except OSError as exc:
            reraise(exc, where=self.label)

    def _put(self, data: bytes) -> str:
        key = content_key(data)
        path = self._path(key)
        if path.exists():
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no blob {key}") from None
        except OSError as exc:
            reraise(exc, where=self.label)
        return verified(key, data)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def open_blob_store(settings: IngestSettings) -> BlobStore:
    """The store named by ``LOUPE_BLOB_URL`` (s3://bucket/prefix) or the local folder."""
    if settings.blob_url:
        if not settings.blob_url.startswith("s3://"):
            raise ValueError("LOUPE_BLOB_URL must start with s3://")
        from loupe.ingest.blobs_s3 import S3BlobStore

        return S3BlobStore.from_url(settings.blob_url, endpoint_url=settings.s3_endpoint_url)
    return LocalBlobStore(settings.blob_dir)
