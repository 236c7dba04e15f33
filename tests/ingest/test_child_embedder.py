"""The embedded server's ingestion processes: started (models loaded) when the server starts,
at low CPU priority, so the first upload does not wait for them and queries go first."""

from __future__ import annotations

import os
import time
from pathlib import Path

from fastapi.testclient import TestClient

from loupe.api.app import create_app
from loupe.ingest.child_embedder import ChildEmbedder
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import AUTH, make_settings


def _nice(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # field 19 of stat: nice


def test_the_server_starts_its_ingestion_processes_at_low_priority(
    tmp_path: Path, encoders: EncoderPool
) -> None:
    settings = make_settings(
        tmp_path / "data", ingest_prewarm=True, ingest_processes=1, ingest_nice=7
    )
    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client:
        embedder = client.app.state.ingest.stores.pipeline.embedder  # type: ignore[attr-defined]
        assert isinstance(embedder, ChildEmbedder)
        deadline = time.monotonic() + 120
        while not embedder.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        (pid,) = embedder.pids()  # before any upload
        assert _nice(pid) == os.nice(0) + 7  # seven steps below this process
        assert client.get("/healthz").status_code == 200


def test_no_processes_until_needed_when_not_prewarmed(
    tmp_path: Path, encoders: EncoderPool
) -> None:
    settings = make_settings(tmp_path / "data", ingest_prewarm=False, ingest_processes=1)
    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client:
        embedder = client.app.state.ingest.stores.pipeline.embedder  # type: ignore[attr-defined]
        time.sleep(0.5)
        assert embedder.pids() == []
