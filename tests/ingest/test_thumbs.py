"""``ingest.thumbs.Thumbnailer``: a WebP no larger than the size, upright, cut once and then
read from the cache; a cache that cannot be written costs only the cache; a gone blob is
NotFound and a key that is no hash is refused before any file is touched."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from loupe.ingest.blobs import LocalBlobStore
from loupe.ingest.thumbs import Thumbnailer
from loupe.search.errors import InvalidInput, NotFound


def _photo(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def test_a_thumbnail_is_a_small_webp_cut_once(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    key = blobs.put(_photo(800, 400))
    thumbs = Thumbnailer(blobs, tmp_path / "cache", size=64)
    data = thumbs.get(key)
    image = Image.open(io.BytesIO(data))
    assert image.format == "WEBP" and image.size == (64, 32)
    cached = tmp_path / "cache" / f"{key}-64.webp"
    assert cached.read_bytes() == data
    cached.write_bytes(b"what the cache holds")
    assert thumbs.get(key) == b"what the cache holds"  # not cut again


def test_an_unwritable_cache_still_answers(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    key = blobs.put(_photo(100, 100))
    (tmp_path / "cache").write_text("a file where the folder should be")
    thumbs = Thumbnailer(blobs, tmp_path / "cache", size=32)
    assert Image.open(io.BytesIO(thumbs.get(key))).size == (32, 32)


def test_a_gone_blob_and_a_bad_key(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    thumbs = Thumbnailer(blobs, tmp_path / "cache")
    with pytest.raises(NotFound):
        thumbs.get("0" * 64)
    (tmp_path / "secret-256.webp").write_bytes(b"outside the cache")
    with pytest.raises(InvalidInput):
        thumbs.get("../secret")  # never read from outside the cache
