"""Reindex through a real Celery worker on real Redis: the same migration as the in-process
test — searches never fail, uploads during the reindex land in the new collection, rollback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from loupe.api.settings import Settings
from loupe.search.encoders.pool import EncoderPool
from loupe.workers.celery_app import CeleryDispatcher
from tests.api.conftest import ADMIN_TOKEN, search, top_stems
from tests.extras import needs_clip
from tests.workers.conftest import api_with_worker, live_ids, make_settings, wait_job

pytestmark = [pytest.mark.celery, pytest.mark.slow, needs_clip]  # reindexes to bundled:en
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def settings(tmp_path: Path, broker: str) -> Settings:
    return make_settings(tmp_path / "data", broker_url=broker, encode_batch_size=4)


@pytest.fixture
def client(settings: Settings, encoders: EncoderPool) -> Iterator[TestClient]:
    with api_with_worker(settings, encoders) as test_client:
        yield test_client


def _search_with(client: TestClient, model_id: str) -> dict[str, Any]:
    """A search for "a cat" once the API's searches use ``model_id`` (the alias watcher looks
    every 0.5 s); fails when they never do."""
    deadline = time.monotonic() + 30
    while True:
        result = search(client, text="a cat", limit=3)
        if result["model_id"] == model_id or time.monotonic() > deadline:
            assert result["model_id"] == model_id
            return result
        time.sleep(0.1)


def _upload(client: TestClient, *paths: Path) -> dict[str, object]:
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in paths]
    response = client.post("/v1/items", files=files)
    assert response.status_code == 202, response.text
    body: dict[str, object] = response.json()
    return body


def test_reindex_through_celery(client: TestClient, sample_dir: Path, tmp_path: Path) -> None:
    ingest = client.app.state.ingest  # type: ignore[attr-defined]
    assert isinstance(ingest.dispatcher, CeleryDispatcher)
    index = ingest.stores.index
    first = _upload(client, *sorted(sample_dir.glob("*.jpg")))
    assert wait_job(client, str(first["job_id"]))["state"] == "succeeded"
    alias = client.app.state.settings.collection_alias  # type: ignore[attr-defined]
    old = index.resolve_alias(alias)

    failures: list[str] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            response = client.post("/v1/search", json={"text": "a cat", "limit": 3})
            if response.status_code != 200:
                failures.append(response.text)

    thread = threading.Thread(target=searcher)
    thread.start()
    try:
        started = client.post("/v1/admin/reindex", json={"model": "bundled:en"}, headers=AUTH)
        assert started.status_code == 202, started.text
        from PIL import Image

        late_path = tmp_path / "late.jpg"
        Image.open(sample_dir / "rocket.jpg").rotate(4).save(late_path, quality=70)
        late = _upload(client, late_path)
        assert wait_job(client, str(late["job_id"]))["state"] == "succeeded"
        job = wait_job(client, started.json()["id"], timeout_s=240)
    finally:
        stop.set()
        thread.join()
    assert job["state"] == "succeeded", job
    assert failures == []
    new = index.resolve_alias(alias)
    assert new != old
    assert index.collection_info(new).model_id == "bundled-effl0-mlm6-v2"
    late_id = late["items"][0]["id"]  # type: ignore[index]
    assert late_id in live_ids(index, alias)
    assert len(live_ids(index, alias)) == 11
    result = _search_with(client, "bundled-effl0-mlm6-v2")  # the API follows the swap
    assert top_stems(result) == ["cat"]

    rolled = client.post("/v1/admin/rollback", headers=AUTH)
    assert rolled.status_code == 200
    assert index.resolve_alias(alias) == old
    assert late_id in live_ids(index, alias)  # dual write reached the old one too
