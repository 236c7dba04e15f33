"""Thumbnails cut from the originals in the blob store, cached on local disk as WebP."""

from __future__ import annotations

import io
import logging
import os
import tempfile
from pathlib import Path

from PIL import Image

from loupe.ingest.blobs import BlobStore, check_key
from loupe.ingest.validate import decode_image

log = logging.getLogger(__name__)


class Thumbnailer:
    def __init__(self, blobs: BlobStore, cache_dir: Path, *, size: int = 256) -> None:
        self.blobs = blobs
        self.cache_dir = cache_dir
        self.size = size
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # thumbnails are still served, just not cached
            log.warning("thumbnail cache folder unusable (%s)", exc.strerror or exc)

    def get(self, key: str) -> bytes:
        """WebP bytes of the thumbnail of blob ``key`` (NotFound when the blob is gone)."""
        check_key(key)
        path = self.cache_dir / f"{key}-{self.size}.webp"
        try:
            return path.read_bytes()
        except OSError:  # not cached yet, or the cache folder is unusable (warned at start)
            pass
        image = decode_image(self.blobs.get(key), draft_size=self.size * 2)
        image.thumbnail((self.size, self.size), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="WEBP", quality=82, method=4)
        data = buffer.getvalue()
        self._keep(path, data)
        return data

    def _keep(self, path: Path, data: bytes) -> None:
        """Cache the thumbnail; a full or read-only disk only costs the cache, not the answer."""
        tmp: str | None = None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("thumbnail not cached (%s)", exc.strerror or exc)
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
