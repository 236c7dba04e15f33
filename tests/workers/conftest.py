"""Worker fixtures: a Redis server the tests start (and may stop), distinct JPEGs on disk, a
real Celery worker in a thread sharing the app's stores, an index that fails on purpose."""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.worker import WorkController
from fastapi.testclient import TestClient
from PIL import Image

from loupe.api.app import create_app
from loupe.api.settings import Settings
from loupe.ingest.blobs import content_key
from loupe.ingest.items import Modality, item_id
from loupe.ingest.stores import Stores
from loupe.search.encoders.pool import EncoderPool
from loupe.search.index import IndexUnavailable, Point, VectorIndex
from loupe.workers.celery_app import make_celery
from loupe.workers.tasks import register_tasks
from tests.api.conftest import AUTH, make_settings, wait_job

__all__ = ["make_settings", "wait_job"]

PORTS = range(6390, 6400)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class RedisServer:
    """A redis-server of our own (append-only file, no snapshots) that a test may stop and
    start again: queued tasks and job records survive the restart."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:  # pragma: no cover - CI installs redis-server
            pytest.fail("redis-server is not installed")
        self.binary = binary
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = next((p for p in PORTS if _port_free(p)), 0)
        if not self.port:  # pragma: no cover
            pytest.fail(f"no free port in {PORTS}")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self._proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or self._proc.poll() is not None:
                    raise
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        """A clean shutdown (SIGTERM): Redis writes its append-only file and exits."""
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=20)
            self._proc = None

    def flush(self) -> None:
        client = redis.Redis.from_url(self.url)
        client.flushall()
        client.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One Redis for the session's Celery tests (never stopped by a test)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker(redis_server: RedisServer) -> Iterator[str]:
    """The session Redis, empty before and after the test."""
    redis_server.flush()
    yield redis_server.url
    redis_server.flush()


def jpeg(seed: int, *, side: int = 32) -> bytes:
    """A small JPEG whose bytes depend on ``seed`` (distinct seeds, distinct images)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def write_jpegs(folder: Path, count: int, *, first: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in range(first, first + count):
        path = folder / f"img{seed:05d}.jpg"
        path.write_bytes(jpeg(seed))
        paths.append(path)
    return paths


def image_ids(paths: Sequence[Path]) -> set[str]:
    """The point ids the pipeline must write for these image files."""
    return {item_id(Modality.IMAGE, content_key(p.read_bytes())) for p in paths}


def live_ids(index: VectorIndex, alias: str) -> list[str]:
    live = index.resolve_alias(alias)
    assert live is not None
    ids: list[str] = []
    offset: str | None = None
    while True:
        hits, offset = index.scroll(live, limit=256, offset=offset)
        ids.extend(h.id for h in hits)
        if offset is None:
            return ids


@contextmanager
def celery_worker(
    stores: Stores, settings: Settings, *, concurrency: int = 2
) -> Iterator[WorkController]:
    """A real Celery worker (thread pool) in this process, on the settings' broker, running
    the tasks with ``stores`` (the embedded index has one owner: this process)."""
    app = make_celery(settings)
    register_tasks(app, settings, stores=stores)
    with start_worker(
        app,
        pool="threads",
        concurrency=concurrency,
        perform_ping_check=False,
        shutdown_timeout=60,
        loglevel="WARNING",
    ) as worker:
        yield worker
    app.close()


class FlakyIndex:
    """The real index, except that the first ``failures`` upserts raise IndexUnavailable
    (a fault injector at the index boundary; every other call is the real one)."""

    def __init__(self, inner: VectorIndex, *, failures: int) -> None:
        self.inner = inner
        self.failures_left = failures
        self.raised = 0
        self.upserts = 0
        self._lock = threading.Lock()

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        with self._lock:
            fail = self.failures_left > 0
            if fail:
                self.failures_left -= 1
                self.raised += 1
        if fail:
            raise IndexUnavailable("injected: the index is not answering")
        self.inner.upsert(collection, points)
        with self._lock:
            self.upserts += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@contextmanager
def api_with_worker(settings: Settings, encoders: EncoderPool) -> Iterator[TestClient]:
    with (
        TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client,
        celery_worker(client.app.state.ingest.stores, settings),  # type: ignore[attr-defined]
    ):
        yield client


def indexed(client: TestClient) -> list[str]:
    ingest = client.app.state.ingest  # type: ignore[attr-defined]
    return live_ids(ingest.stores.index, client.app.state.settings.collection_alias)  # type: ignore[attr-defined]
