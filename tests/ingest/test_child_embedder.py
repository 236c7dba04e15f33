"""The embedded server's ingestion processes: started (models loaded) when the server starts,
at low CPU priority, so the first upload does not wait for them and queries go first."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from loupe.api.app import create_app
from loupe.ingest.child_embedder import ChildEmbedder
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import AUTH, make_settings, wait_job


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
        # seven steps below this process, once the child has started (it renices itself
        # first thing, but after its interpreter and imports: under load that read 0 here)
        _wait_for(lambda: _nice(pid) == os.nice(0) + 7, "the child at nice 7")
        assert client.get("/healthz").status_code == 200


def test_no_processes_until_needed_when_not_prewarmed(
    tmp_path: Path, encoders: EncoderPool
) -> None:
    settings = make_settings(tmp_path / "data", ingest_prewarm=False, ingest_processes=1)
    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client:
        embedder = client.app.state.ingest.stores.pipeline.embedder  # type: ignore[attr-defined]
        time.sleep(0.5)
        assert embedder.pids() == []


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s  # a bounded wait, not a timing assertion
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.05)


def _upload(client: TestClient, path: Path) -> str:
    files = [("files", (path.name, path.read_bytes(), "image/jpeg"))]
    body = client.post("/v1/items", files=files).json()
    assert wait_job(client, body["job_id"])["state"] == "succeeded"
    return str(body["items"][0]["id"])


def test_idle_processes_are_replaced_by_fresh_ones_after_a_job(
    tmp_path: Path, encoders: EncoderPool, sample_dir: Path
) -> None:
    """A child's heap grows with a job and is never handed back: once idle after a job, the
    children are replaced by fresh, warmed ones; uploads keep working across the swap."""
    settings = make_settings(
        tmp_path / "data", ingest_prewarm=True, ingest_processes=1, ingest_recycle_idle_s=0.5
    )
    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client:
        embedder = client.app.state.ingest.stores.pipeline.embedder  # type: ignore[attr-defined]
        _wait_for(lambda: len(embedder.pids()) == 1, "the child started")
        time.sleep(1.5)  # idle without a job: nothing to give back, the child stays
        (started,) = embedder.pids()
        first = _upload(client, sample_dir / "cat.jpg")
        _wait_for(lambda: embedder.pids() not in ([], [started]), "a fresh child")
        (fresh,) = embedder.pids()
        _wait_for(lambda: _nice(fresh) == os.nice(0) + 10, "the fresh child's low priority")
        second = _upload(client, sample_dir / "coffee.jpg")
        hits = client.post("/v1/search", json={"text": "a cup of coffee", "limit": 2}).json()
        assert second in [h["id"] for h in hits["hits"]] and first != second


def test_unwarmed_processes_exit_when_idle_after_a_job(
    tmp_path: Path, encoders: EncoderPool, sample_dir: Path
) -> None:
    settings = make_settings(
        tmp_path / "data", ingest_prewarm=False, ingest_processes=1, ingest_recycle_idle_s=0.5
    )
    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client:
        embedder = client.app.state.ingest.stores.pipeline.embedder  # type: ignore[attr-defined]
        _upload(client, sample_dir / "cat.jpg")
        assert embedder.pids()
        _wait_for(lambda: embedder.pids() == [], "the idle child exited")


def test_a_closed_embedder_starts_no_processes(tmp_path: Path) -> None:
    """A recycle that races ``close`` calls ``warm`` last: it must not start a new pool."""
    from loupe.ingest.units import Limits

    limits = Limits(max_bytes=1 << 20, max_pixels=1 << 20, max_text_chars=1000)
    embedder = ChildEmbedder(make_settings(tmp_path / "data"), limits, processes=1, nice=10)
    embedder.close()
    embedder.warm()
    time.sleep(0.5)
    assert embedder.pids() == []
