"""Real stores for the ingestion tests (embedded index, SQLite jobs, the session's bundled
encoder, in this process) and the helpers that fill them; a real S3-compatible server (moto's,
on a free loopback port) for the blob stores."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loupe.api.settings import Settings
from loupe.ingest.jobs import Job, JobKind, Unit
from loupe.ingest.stores import Stores
from loupe.search.encoders.pool import EncoderPool
from tests.workers.conftest import make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", enrichers=[])


@pytest.fixture
def stores(settings: Settings, encoders: EncoderPool) -> Iterator[Stores]:
    opened = Stores.open(settings, role="cli", encoders=encoders)
    yield opened
    opened.close()


def file_job(stores: Stores, paths: list[Path], kind: JobKind = JobKind.BULK, **meta: str) -> Job:
    """A job with one ``file`` unit per path."""
    units = [Unit(i, p.name, {"kind": "file", "path": str(p)}) for i, p in enumerate(paths)]
    return stores.jobs.create(kind, units, meta=meta)


def ids_in(stores: Stores, collection: str) -> set[str]:
    hits, _ = stores.index.scroll(collection, limit=100)
    return {h.id for h in hits}


_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "loupe-test",
    "AWS_SECRET_ACCESS_KEY": "loupe-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

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
    """A plain boto3 client of the S3 server, to look behind a store's back."""
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=endpoint)
