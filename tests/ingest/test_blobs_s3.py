"""S3BlobStore against a real S3-compatible HTTP server (moto's server, from
``tests/ingest/conftest.py``): object layout, no rewrites, settings, refusals and outages. The
contract every blob backend keeps is in ``test_blobs``."""

from __future__ import annotations

import hashlib
import socket

import pytest

from loupe.api.settings import Settings
from loupe.ingest.blobs import open_blob_store
from loupe.ingest.blobs_s3 import S3BlobStore
from loupe.search.errors import Damaged, Unavailable
from tests.ingest.conftest import raw_client


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
