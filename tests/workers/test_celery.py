"""The API with a broker: jobs in Redis, dispatched through Celery to a real worker (thread
pool, in this process because the embedded index has one owner) on a real Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from loupe.api.settings import Settings
from loupe.search.encoders.pool import EncoderPool
from loupe.workers.celery_app import CeleryDispatcher
from tests.workers.conftest import (
    api_with_worker,
    image_ids,
    indexed,
    jpeg,
    make_settings,
    wait_job,
    write_jpegs,
)

pytestmark = pytest.mark.celery


@pytest.fixture
def settings(tmp_path: Path, broker: str) -> Settings:
    return make_settings(tmp_path / "data", broker_url=broker, encode_batch_size=16)


@pytest.fixture
def client(settings: Settings, encoders: EncoderPool) -> Iterator[TestClient]:
    with api_with_worker(settings, encoders) as test_client:
        yield test_client


def bulk(client: TestClient, path: str) -> dict[str, Any]:
    response = client.post("/v1/jobs", json={"source": {"path": path}})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def test_dispatch_goes_through_celery(client: TestClient) -> None:
    ingest = client.app.state.ingest  # type: ignore[attr-defined]
    assert isinstance(ingest.dispatcher, CeleryDispatcher)
    assert type(ingest.stores.jobs).__name__ == "RedisJobStore"


def test_bulk_job_of_200_images(client: TestClient, settings: Settings) -> None:
    paths = write_jpegs(settings.ingest_roots[0] / "bulk200", 200)
    job = wait_job(client, bulk(client, "bulk200")["id"])
    assert (job["state"], job["total"], job["done"], job["failed"]) == ("succeeded", 200, 200, 0)
    assert job["pending"] == 0
    assert job["errors"] == []
    ids = indexed(client)
    assert len(ids) == 200
    assert set(ids) == image_ids(paths)


def test_corrupt_files_end_partial_and_retry_reruns_only_them(
    client: TestClient, settings: Settings
) -> None:
    folder = settings.ingest_roots[0] / "mixed"
    write_jpegs(folder, 45)
    bad = [folder / f"bad{i}.jpg" for i in range(5)]
    for path in bad:
        path.write_bytes(b"\xff\xd8 not really a jpeg " * 10)
    expected = sorted(f"mixed/{p.name}" for p in bad)
    job = wait_job(client, bulk(client, "mixed")["id"])
    assert (job["state"], job["done"], job["failed"]) == ("partial", 45, 5)
    assert sorted(e["item"] for e in job["errors"]) == expected

    again = client.post(f"/v1/jobs/{job['id']}/retry")
    assert again.status_code == 202, again.text
    job = wait_job(client, job["id"])
    assert (job["state"], job["done"], job["failed"]) == ("partial", 45, 5)
    assert sorted(e["item"] for e in job["errors"]) == expected

    for number, path in enumerate(bad):
        path.write_bytes(jpeg(10_000 + number))
    fixed = client.post(f"/v1/jobs/{job['id']}/retry")
    assert fixed.status_code == 202, fixed.text
    job = wait_job(client, job["id"])
    assert (job["state"], job["total"], job["done"], job["failed"]) == ("succeeded", 50, 50, 0)
    assert set(indexed(client)) == image_ids(sorted(folder.glob("*.jpg")))


def test_same_bytes_twice_is_one_point(client: TestClient, settings: Settings) -> None:
    data = jpeg(7)

    def send(*names: str) -> dict[str, Any]:
        files = [("files", (name, data, "image/jpeg")) for name in names]
        response = client.post("/v1/items", files=files)
        assert response.status_code == 202, response.text
        body: dict[str, Any] = response.json()
        return body

    first = send("a.jpg", "a-copy.jpg")
    assert [i["status"] for i in first["items"]] == ["queued", "duplicate"]
    assert wait_job(client, first["job_id"])["state"] == "succeeded"
    second = send("a-again.jpg")
    assert second["job_id"] is None
    assert second["items"][0]["status"] == "duplicate"
    assert indexed(client) == [first["items"][0]["id"]]


def test_bulk_paths_outside_the_roots_are_refused(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    write_jpegs(elsewhere, 2)
    (settings.ingest_roots[0] / "link").symlink_to(elsewhere)
    for path in (str(elsewhere), "../elsewhere", "link", "/etc"):
        response = client.post("/v1/jobs", json={"source": {"path": path}})
        assert 400 <= response.status_code < 500, (path, response.text)
        assert response.json()["error"]["type"] in ("forbidden", "invalid_input")
    assert client.get("/v1/jobs").json()["jobs"] == []
