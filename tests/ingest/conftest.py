"""Real stores for the ingestion tests (embedded index, SQLite jobs, the session's bundled
encoder, in this process) and the helpers that fill them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
