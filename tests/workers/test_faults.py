"""Faults during ingestion: a worker killed mid-batch, Redis stopped and restarted, the index
unavailable for a moment, the API restarted during an in-process job. Every case ends with
exact counts: no unit lost, no point duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from loupe.api.app import create_app
from loupe.api.settings import Settings
from loupe.ingest.blobs import open_blob_store
from loupe.ingest.jobs import FINAL_STATES, Job, JobKind
from loupe.ingest.jobs_redis import RedisJobStore
from loupe.ingest.jobs_sqlite import SqliteJobStore
from loupe.ingest.sources import plan_source
from loupe.search.encoders.pool import EncoderPool
from loupe.search.index import open_index
from loupe.workers.celery_app import CeleryDispatcher, make_celery
from tests.api.conftest import AUTH
from tests.workers.conftest import (
    FlakyIndex,
    RedisServer,
    api_with_worker,
    image_ids,
    indexed,
    jpeg,
    live_ids,
    make_settings,
    wait_job,
    write_jpegs,
)

REPO = Path(__file__).resolve().parents[2]


def poll(read: Any, until: Any, *, timeout_s: float = 120.0, what: str = "") -> Any:
    """Read until ``until(value)`` holds (a bounded wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = read()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}: {value}")
        time.sleep(0.02)


# --- a worker process killed mid-batch -------------------------------------------------------


def worker_process(settings: Settings, log: Path, name: str) -> subprocess.Popen[bytes]:
    """``loupe worker`` as its own process, configured only through LOUPE_* variables."""
    loupe = Path(sys.executable).with_name("loupe")
    head = (
        [str(loupe)]
        if loupe.exists()
        else [sys.executable, "-c", "from loupe.api.cli import main; main()"]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOUPE_")}
    env.update(
        HF_HUB_OFFLINE="1",
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]),
        LOUPE_DATA_DIR=str(settings.data_dir),
        LOUPE_BROKER_URL=str(settings.broker_url),
        LOUPE_INGEST_ROOTS=",".join(str(r) for r in settings.ingest_roots),
        LOUPE_MODEL=settings.model,
        LOUPE_DEVICE="cpu",
        LOUPE_ENCODE_BATCH_SIZE=str(settings.encode_batch_size),
        LOUPE_TASK_VISIBILITY_TIMEOUT_S=str(settings.task_visibility_timeout_s),
        LOUPE_LOG_LEVEL="INFO",
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [*head, "worker", "--concurrency", "2", "--hostname", f"{name}@%h"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )


@pytest.mark.celery
def test_worker_killed_mid_batch_loses_and_duplicates_nothing(
    tmp_path: Path, restartable: RedisServer
) -> None:
    # A Redis of its own: no worker thread left over from another test can take its tasks.
    broker = restartable.url
    settings = make_settings(
        tmp_path / "data", broker_url=broker, encode_batch_size=4, task_visibility_timeout_s=3
    )
    paths = write_jpegs(settings.ingest_roots[0] / "big", 160)
    jobs = RedisJobStore(broker)
    _, units = plan_source(
        "big",
        roots=settings.ingest_roots,
        blobs=open_blob_store(settings),
        max_bytes=settings.max_upload_bytes,
    )
    job = jobs.create(JobKind.BULK, units)
    dispatcher = CeleryDispatcher(make_celery(settings), chunk_size=4, broker_url=broker)
    dispatcher.submit(job.id, [u.seq for u in units])
    dispatcher.close()
    log = tmp_path / "workers.log"

    def get() -> Job:
        return jobs.get(job.id)

    first = worker_process(settings, log, "first")
    try:
        poll(get, lambda j: j.done > 0 or first.poll() is not None, what="worker 1 progress")
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=30) == -signal.SIGKILL, log.read_text()
    finally:
        if first.poll() is None:
            first.kill()
    killed_at = get()
    assert 0 < killed_at.done < killed_at.total, killed_at
    assert redis.Redis.from_url(broker).hlen("unacked") > 0  # tasks it held, unacknowledged

    second = worker_process(settings, log, "second")
    try:
        # kombu puts the killed worker's tasks back within ~visibility timeout + sweep interval
        try:
            done = poll(get, lambda j: j.state in FINAL_STATES, timeout_s=150, what="the end")
        except AssertionError:
            client = redis.Redis.from_url(broker)
            state = {"queued": client.llen("celery"), "unacked": client.hlen("unacked")}
            raise AssertionError(f"{get()} {state}\n{log.read_text()[-4000:]}") from None
    finally:
        second.terminate()
        second.wait(timeout=60)
    assert (done.state.value, done.total, done.done, done.failed) == ("succeeded", 160, 160, 0)
    index = open_index(url=None, path=str(settings.index_dir))
    try:
        ids = live_ids(index, settings.collection_alias)
    finally:
        index.close()
    assert len(ids) == 160, log.read_text()[-3000:]
    assert set(ids) == image_ids(paths)
    jobs.close()


# --- the API with a broker, and a worker thread -----------------------------------------------


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, which it may stop."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def progress(client: TestClient, job_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
    return body


@pytest.mark.celery
# worker_cancel_long_running_tasks_on_connection_loss is off on purpose (tasks are idempotent);
# Celery says so on every reconnect.
@pytest.mark.filterwarnings("ignore::celery.exceptions.CPendingDeprecationWarning")
def test_redis_restart_during_a_bulk_job(
    tmp_path: Path, restartable: RedisServer, encoders: EncoderPool
) -> None:
    settings = make_settings(
        tmp_path / "data",
        broker_url=restartable.url,
        encode_batch_size=4,
        task_visibility_timeout_s=3,
    )
    gallery = write_jpegs(tmp_path / "gallery", 3, first=900)
    paths = write_jpegs(settings.ingest_roots[0] / "bulk", 120)
    with api_with_worker(settings, encoders) as client:
        files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in gallery]
        uploaded = client.post("/v1/items", files=files).json()
        assert wait_job(client, uploaded["job_id"])["state"] == "succeeded"
        created = client.post("/v1/jobs", json={"source": {"path": "bulk"}})
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        before = poll(lambda: progress(client, job_id), lambda j: j["done"] > 0, what="progress")
        restartable.stop()
        try:
            assert before["done"] < before["total"]
            refused = client.post("/v1/jobs", json={"source": {"path": "bulk"}})
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"]["type"] == "unavailable"
            upload = [("files", ("new.jpg", jpeg(5000), "image/jpeg"))]
            assert client.post("/v1/items", files=upload).status_code == 503
            found = client.post(
                "/v1/search", json={"text": "a photo", "limit": 5, "collapse_duplicates": False}
            )
            assert found.status_code == 200, found.text
            assert len(found.json()["hits"]) >= 3
        finally:
            restartable.start()
        job = wait_job(client, job_id, timeout_s=180)
        assert (job["state"], job["total"], job["done"], job["failed"]) == (
            "succeeded",
            120,
            120,
            0,
        )
        ids = indexed(client)
        assert len(ids) == 123
        assert set(ids) == image_ids(paths) | image_ids(gallery)


@pytest.mark.celery
def test_index_unavailable_for_a_moment_tasks_retry(
    tmp_path: Path, broker: str, encoders: EncoderPool
) -> None:
    settings = make_settings(tmp_path / "data", broker_url=broker, encode_batch_size=8)
    paths = write_jpegs(settings.ingest_roots[0] / "bulk", 40)
    with api_with_worker(settings, encoders) as client:
        pipeline = client.app.state.ingest.stores.pipeline  # type: ignore[attr-defined]
        flaky = FlakyIndex(pipeline.index, failures=3)
        pipeline.index = flaky
        created = client.post("/v1/jobs", json={"source": {"path": "bulk"}})
        assert created.status_code == 202, created.text
        job = wait_job(client, created.json()["id"])
        assert (job["state"], job["done"], job["failed"]) == ("succeeded", 40, 0)
        assert flaky.raised == 3
        assert flaky.upserts == 5
        assert set(indexed(client)) == image_ids(paths)


# --- the API restarted during an in-process job -------------------------------------------------


def test_api_restart_resumes_an_in_process_job(tmp_path: Path, encoders: EncoderPool) -> None:
    settings = make_settings(tmp_path / "data", encode_batch_size=2)
    paths = write_jpegs(settings.ingest_roots[0] / "bulk", 100)
    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client:
        created = client.post("/v1/jobs", json={"source": {"path": "bulk"}})
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        poll(lambda: progress(client, job_id), lambda j: j["done"] >= 6, what="progress")
    store = SqliteJobStore(settings.jobs_db)
    stopped = store.get(job_id)
    store.close()
    assert 0 < stopped.done < 100, stopped
    assert stopped.failed == 0

    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client:
        job = wait_job(client, job_id)
        assert (job["state"], job["total"], job["done"], job["failed"]) == (
            "succeeded",
            100,
            100,
            0,
        )
        ids = indexed(client)
        assert len(ids) == 100
        assert set(ids) == image_ids(paths)
