"""Shared fixtures: real Redis (db 15 by default), temp data dirs, sample photos."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from loupe.search.encoders.pool import EncoderPool

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REDIS_URL = os.environ.get("LOUPE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis database, emptied before and after the test."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:  # pragma: no cover - CI starts redis-server
        pytest.fail(f"no Redis at {REDIS_URL}: start redis-server ({exc})")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from loupe.ingest.samples import write_samples

    folder = tmp_path_factory.mktemp("samples")
    write_samples(folder)
    return folder


@pytest.fixture(scope="session")
def encoders() -> Iterator[EncoderPool]:
    """One pool of loaded models for the whole session (loading takes seconds)."""
    pool = EncoderPool("bundled", device="cpu", batch_size=32, wait_ms=5)
    pool.default.load()
    yield pool
    pool.close()
