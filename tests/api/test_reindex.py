"""Reindex and model migration while users keep searching; rollback; a failing canary."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from loupe.search.index import Point
from tests.api.conftest import ADMIN_TOKEN, search, top_stems, wait_job
from tests.extras import needs_clip

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _collections(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/v1/admin/collections", headers=AUTH)
    assert response.status_code == 200, response.text
    return {c["name"]: c for c in response.json()}


def _live(client: TestClient) -> dict[str, Any]:
    return next(c for c in _collections(client).values() if c["live"])


def _ranking(client: TestClient, *, limit: int) -> list[tuple[str, float]]:
    """Every hit of "a cat" (duplicates kept), as (id, score rounded to 5 places)."""
    hits = search(client, text="a cat", limit=limit, collapse_duplicates=False)["hits"]
    return [(h["id"], round(h["score"], 5)) for h in hits]


def _wait_model(client: TestClient, model_prefix: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        result = search(client, text="a cat", limit=3)
        if result["model_id"].startswith(model_prefix):
            return result
        time.sleep(0.1)
    raise AssertionError("searches never switched to the new model")


@needs_clip  # migrates to bundled:en (MiniLM runs through sentence-transformers)
def test_migration_while_searching_and_uploading(
    client: TestClient,
    gallery: dict[str, str],
    sample_dir: Path,
    tmp_path: Path,
    upload: Callable[..., dict[str, Any]],
) -> None:
    before = _live(client)
    assert before["model_id"] == "bundled-effl0-usem3-v2" and before["points"] == len(gallery)
    before_results = _ranking(client, limit=len(gallery))
    failures: list[str] = []
    models: set[str] = set()
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            response = client.post("/v1/search", json={"text": "a cat", "limit": 3})
            if response.status_code != 200:
                failures.append(response.text)
                continue
            body = response.json()
            models.add(body["model_id"])
            if top_stems(body) not in (["cat"], ["late-cat"]):
                failures.append(f"wrong top hit {top_stems(body)} with {body['model_id']}")

    thread = threading.Thread(target=searcher)
    thread.start()
    try:
        started = client.post("/v1/admin/reindex", json={"model": "bundled:en"}, headers=AUTH)
        assert started.status_code == 202, started.text
        job = started.json()
        assert job["kind"] == "reindex" and job["total"] == len(gallery)
        # An upload made while the reindex runs must be in the new collection afterwards.
        from PIL import Image

        extra = tmp_path / "late-cat.jpg"
        Image.open(sample_dir / "cat.jpg").rotate(3).save(extra, quality=80)
        late = upload(extra)
        assert wait_job(client, job["id"])["state"] == "succeeded"
        after = _wait_model(client, "bundled-effl0-mlm6")
    finally:
        stop.set()
        thread.join()
    assert failures == []
    assert {"bundled-effl0-usem3-v2", "bundled-effl0-mlm6-v2"} >= models
    live = _live(client)
    assert live["name"] != before["name"] and live["model_id"] == "bundled-effl0-mlm6-v2"
    assert live["points"] == len(gallery) + 1
    assert late["items"][0]["id"] in {
        h["id"] for h in search(client, text="a cat", limit=20, collapse_duplicates=False)["hits"]
    }
    assert top_stems(after) in (["cat"], ["late-cat"])

    # Rollback restores the previous collection and its results exactly: every item with the
    # score it had before the reindex, plus the upload dual-written into it meanwhile.
    rolled = client.post("/v1/admin/rollback", headers=AUTH)
    assert rolled.status_code == 200 and rolled.json()["live"] == before["name"]
    back = _wait_model(client, "bundled-effl0-usem3-v2")
    assert back["model_id"] == "bundled-effl0-usem3-v2"
    assert _live(client)["name"] == before["name"]
    late_id = late["items"][0]["id"]
    restored = _ranking(client, limit=len(gallery) + 1)
    assert late_id in [item for item, _ in restored]
    assert sorted(hit for hit in restored if hit[0] != late_id) == sorted(before_results)
    # The new collection is kept: it can be made live again by a reindex.
    assert live["name"] in _collections(client)
    # A non-live collection can be dropped; the live one cannot.
    assert client.delete(f"/v1/admin/collections/{before['name']}", headers=AUTH).status_code == 409
    assert client.delete(f"/v1/admin/collections/{live['name']}", headers=AUTH).status_code == 204
    assert set(_collections(client)) == {before["name"]}


def test_failed_canary_keeps_the_old_collection(
    client: TestClient, gallery: dict[str, str]
) -> None:
    before = _live(client)
    expected = [h["id"] for h in search(client, text="a rocket", limit=5)["hits"]]
    stores = client.app.state.ingest.stores  # type: ignore[attr-defined]
    item = stores.index.retrieve(before["name"], [gallery["flower"]], with_vectors=True)[0]
    # The point names an original that is intact but is no image: it cannot be re-embedded,
    # and it is not a lost or damaged blob (those are skipped: tests/api/test_fsck.py).
    wrong = stores.blobs.put(b"not an image at all")
    payload = {**item.payload, "sha256": wrong}
    stores.index.upsert(before["name"], [Point(item.id, item.vectors, payload)])
    started = client.post("/v1/admin/reindex", json={}, headers=AUTH)
    assert started.status_code == 202, started.text
    job = wait_job(client, started.json()["id"])
    assert job["state"] == "failed"
    assert "canary" in job["meta"]["reason"]
    assert [e["item"] for e in job["errors"]] == ["flower.jpg"]
    assert _live(client)["name"] == before["name"]
    assert [h["id"] for h in search(client, text="a rocket", limit=5)["hits"]] == expected
    building = [c for c in _collections(client).values() if c["building"]]
    assert building == []


def test_second_reindex_while_one_runs_is_refused(client: TestClient) -> None:
    stores = client.app.state.ingest.stores  # type: ignore[attr-defined]
    live = client.app.state.ingest.live_collection()  # type: ignore[attr-defined]
    stores.index.set_alias(stores.pipeline.next_alias, live)
    response = client.post("/v1/admin/reindex", json={}, headers=AUTH)
    assert response.status_code == 409
    assert response.json()["error"]["type"] == "conflict"


def test_a_model_that_cannot_load_is_refused_in_one_sentence(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="loupe.api.routes.admin"):
        response = client.post(
            "/v1/admin/reindex", json={"model": "clip:no-such-model-0123"}, headers=AUTH
        )
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "\n" not in message and len(message) < 400, message
    assert "no-such-model-0123" in message
    assert any(r.exc_info for r in caplog.records), "the details go to the server log"
