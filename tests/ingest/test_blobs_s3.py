"""One contract test body for every blob backend: LocalBlobStore and S3BlobStore.

The S3 backend runs against a real S3-compatible HTTP server (moto's server) on a free
loopback port, spoken to over HTTP by boto3, exactly as MinIO would be.
"""

from __future__ import annotations

import hashlib
import socket
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from loupe.api.settings import Settings
from loupe.ingest.blobs import BlobStore, LocalBlobStore, open_blob_store
from loupe.ingest.blobs_s3 import S3BlobStore
from loupe.search.errors import Damaged, InvalidInput, NotFound, Unavailable

_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "loupe-test",
    "AWS_SECRET_ACCESS_KEY": "loupe-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in _AWS_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def bucket(s3_endpoint: str, aws_env: None) -> str:
    name = f"loupe-{uuid.uuid4().hex[:12]}"
    raw_client(s3_endpoint).create_bucket(Bucket=name)
    return name


def raw_client(endpoint: str) -> Any:
    return boto3.session.Session().client("s3", endpoint_url=endpoint)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    endpoint: str = request.getfixturevalue("s3_endpoint")
    name: str = request.getfixturevalue("bucket")
    return S3BlobStore.from_url(f"s3://{name}/blobs", endpoint_url=endpoint)


# --- the contract, for every backend -------------------------------------------------------


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


# --- S3 specifics ---------------------------------------------------------------------------


def test_s3_object_layout_is_prefix_ab_cd_sha(s3_endpoint: str, bucket: str) -> None:
    store = S3BlobStore.from_url(f"s3://{bucket}/tenant/blobs/", endpoint_url=s3_endpoint)
    key = store.put(b"layout")
    listing = raw_client(s3_endpoint).list_objects_v2(Bucket=bucket)
    assert [item["Key"] for item in listing["Contents"]] == [
        f"tenant/blobs/{key[:2]}/{key[2:4]}/{key}"
    ]


def test_s3_without_prefix_keys_start_at_the_bucket_root(s3_endpoint: str, bucket: str) -> None:
    store = S3BlobStore.from_url(f"s3://{bucket}", endpoint_url=s3_endpoint)
    key = store.put(b"root")
    assert store.object_key(key) == f"{key[:2]}/{key[2:4]}/{key}"
    assert raw_client(s3_endpoint).get_object(Bucket=bucket, Key=store.object_key(key))


def test_s3_put_asks_first_and_never_rewrites(s3_endpoint: str, bucket: str) -> None:
    store = S3BlobStore.from_url(f"s3://{bucket}/p", endpoint_url=s3_endpoint)
    key = hashlib.sha256(b"original").hexdigest()
    # An object already at the key is left alone: put() must HEAD first, not upload again.
    raw_client(s3_endpoint).put_object(Bucket=bucket, Key=store.object_key(key), Body=b"there")
    assert store.put(b"original") == key
    reply = raw_client(s3_endpoint).get_object(Bucket=bucket, Key=store.object_key(key))
    assert reply["Body"].read() == b"there"


def test_open_blob_store_picks_s3_from_settings(s3_endpoint: str, bucket: str) -> None:
    settings = Settings.model_validate(
        {"blob_url": f"s3://{bucket}/from-settings", "s3_endpoint_url": s3_endpoint}
    )
    store = open_blob_store(settings)
    assert isinstance(store, S3BlobStore)
    key = store.put(b"via settings")
    assert store.get(key) == b"via settings"


@pytest.mark.parametrize("url", ["s3://", "http://bucket/prefix", "bucket/prefix", "s3:/x"])
def test_from_url_refuses_non_s3_urls(url: str) -> None:
    with pytest.raises(ValueError, match="s3://"):
        S3BlobStore.from_url(url, endpoint_url=None)


def test_missing_bucket_is_unavailable(s3_endpoint: str, aws_env: None) -> None:
    store = S3BlobStore.from_url("s3://no-such-bucket-here/x", endpoint_url=s3_endpoint)
    with pytest.raises(Unavailable):
        store.put(b"nowhere to go")


def test_unreachable_endpoint_is_unavailable(aws_env: None) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more: connections are refused at once.
    store = S3BlobStore.from_url("s3://bucket/x", endpoint_url=f"http://127.0.0.1:{port}")
    key = hashlib.sha256(b"x").hexdigest()
    with pytest.raises(Unavailable):
        store.exists(key)
    with pytest.raises(Unavailable):
        store.get(key)


def test_s3_object_rewritten_behind_our_back_is_damaged(s3_endpoint: str, bucket: str) -> None:
    store = S3BlobStore.from_url(f"s3://{bucket}/blobs", endpoint_url=s3_endpoint)
    key = store.put(b"the original")
    raw_client(s3_endpoint).put_object(Bucket=bucket, Key=store.object_key(key), Body=b"other")
    with pytest.raises(Damaged, match="damaged"):
        store.get(key)
