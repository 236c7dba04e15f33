"""One contract test body for every blob backend: LocalBlobStore and S3BlobStore (against a
real S3-compatible HTTP server, spoken to over HTTP by boto3, exactly as MinIO would be); the
S3 specifics are in ``test_blobs_s3``."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from loupe.ingest.blobs import BlobStore, LocalBlobStore
from loupe.ingest.blobs_s3 import S3BlobStore
from loupe.search.errors import Damaged, InvalidInput, NotFound


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    endpoint: str = request.getfixturevalue("s3_endpoint")
    name: str = request.getfixturevalue("bucket")
    return S3BlobStore.from_url(f"s3://{name}/blobs", endpoint_url=endpoint)


def test_put_returns_sha256_and_get_round_trips(store: BlobStore) -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    assert store.get(key) == data
    assert store.exists(key)


def test_put_is_idempotent(store: BlobStore) -> None:
    first = store.put(b"same bytes")
    second = store.put(b"same bytes")
    assert first == second
    assert store.get(first) == b"same bytes"


def test_empty_blob_is_a_blob(store: BlobStore) -> None:
    key = store.put(b"")
    assert store.get(key) == b""


def test_missing_key_is_not_found(store: BlobStore) -> None:
    key = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(key)
    with pytest.raises(NotFound):
        store.get(key)


def test_delete_removes_and_ignores_absent_keys(store: BlobStore) -> None:
    key = store.put(b"short-lived")
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)
    with pytest.raises(NotFound):
        store.get(key)


@pytest.mark.parametrize("bad", ["", "../../etc/passwd", "AB" * 32, "a" * 63, "a/" * 32])
def test_malformed_keys_are_refused(store: BlobStore, bad: str) -> None:
    with pytest.raises(InvalidInput):
        store.get(bad)
    with pytest.raises(InvalidInput):
        store.exists(bad)


def test_concurrent_puts_of_many_blobs(store: BlobStore) -> None:
    payloads = [f"blob {i}".encode() * (i + 1) for i in range(24)] * 2
    with ThreadPoolExecutor(max_workers=6) as pool:
        keys = list(pool.map(store.put, payloads))
    for key, data in zip(keys, payloads, strict=True):
        assert store.get(key) == data


def test_garbled_blob_is_damaged_not_served(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    key = blobs.put(b"original bytes")
    path = next(p for p in (tmp_path / "blobs").rglob(key))
    path.write_bytes(b"garbled bytes!")
    with pytest.raises(Damaged, match="damaged"):
        blobs.get(key)
