"""Observability: liveness vs readiness, request ids, and the Prometheus metrics."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.api.conftest import wait_job


def samples(client: TestClient) -> list[Sample]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return [s for family in text_string_to_metric_families(response.text) for s in family.samples]


def value(found: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    return sum(s.value for s in found if s.name == name and labels.items() <= s.labels.items())


def test_ready_and_alive(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "ready": True,
        "checks": {"encoder": "ok", "index": "ok", "queue": "ok", "storage": "ok"},
    }


def test_not_ready_when_the_job_store_is_gone(client: TestClient) -> None:
    client.app.state.ingest.stores.jobs.close()  # type: ignore[attr-defined]
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["ready"] is False
    assert ready.json()["checks"]["queue"] == "unreachable"
    assert client.get("/healthz").status_code == 200


def test_request_ids_are_given_and_honoured(client: TestClient) -> None:
    fresh = {client.get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(fresh) == 3
    assert all(re.fullmatch(r"[0-9a-f]{16}", rid) for rid in fresh)
    echoed = client.get("/healthz", headers={"X-Request-ID": "trace-42.a:b"})
    assert echoed.headers["x-request-id"] == "trace-42.a:b"
    error = client.get("/v1/items/nope", headers={"X-Request-ID": "trace-43"})
    assert error.headers["x-request-id"] == "trace-43"
    for junk in ("x" * 500, "a b", "<script>", "a/b"):
        replaced = client.get("/healthz", headers={"X-Request-ID": junk})
        assert re.fullmatch(r"[0-9a-f]{16}", replaced.headers["x-request-id"])


def test_metrics_by_route_errors_by_type_ingest_and_batches(
    client: TestClient, sample_dir: Path
) -> None:
    photos = sorted(sample_dir.glob("*.jpg"))[:3]
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in photos]
    job = client.post("/v1/items", files=files).json()["job_id"]
    assert wait_job(client, job)["state"] == "succeeded"
    text_job = client.post("/v1/items", json={"items": [{"text": "a harbour at dawn"}]})
    assert wait_job(client, text_job.json()["job_id"])["state"] == "succeeded"
    item_id = client.post("/v1/search", json={"text": "a photo"}).json()["hits"][0]["id"]
    assert client.get(f"/v1/items/{item_id}").status_code == 200
    assert client.get("/v1/items/00000000-0000-4000-8000-000000000000").status_code == 404
    assert client.post("/v1/search", json={}).status_code == 422
    assert client.post("/v1/search", json={"text": 1}).status_code == 422
    assert client.get("/no/such/route").status_code == 404

    found = samples(client)
    seconds = "loupe_http_request_seconds_count"
    assert value(found, seconds, route="/v1/search", method="POST", status="200") == 1
    assert value(found, seconds, route="/v1/items/{item_id}", status="200") == 1
    assert value(found, seconds, route="/v1/items/{item_id}", status="404") == 1
    assert value(found, seconds, route="unmatched") == 1
    assert not [s for s in found if item_id in str(s.labels)]  # ids never become labels
    assert value(found, "loupe_errors_total", type="invalid_input") == 2
    assert value(found, "loupe_errors_total", type="not_found") == 2
    assert value(found, "loupe_items_ingested_total", kind="upload") == 4
    assert value(found, "loupe_points") == 4
    assert value(found, "loupe_queue_depth") == 0
    assert value(found, "loupe_encoder_batch_size_sum") >= 3
    assert value(found, "loupe_encoder_batch_size_count") >= 1

    again = samples(client)  # counters do not double-count on a second scrape
    assert value(again, "loupe_items_ingested_total", kind="upload") == 4
    assert value(again, "loupe_encoder_batch_size_sum") == value(
        found, "loupe_encoder_batch_size_sum"
    )


def test_an_internal_error_is_counted_by_type(client: TestClient, sample_dir: Path) -> None:
    files = [("files", ("cat.jpg", (sample_dir / "cat.jpg").read_bytes(), "image/jpeg"))]
    body = client.post("/v1/items", files=files).json()
    assert wait_job(client, body["job_id"])["state"] == "succeeded"
    item_id = body["items"][0]["id"]
    settings = client.app.state.settings  # type: ignore[attr-defined]
    sha = client.get(f"/v1/items/{item_id}").json()["sha256"]
    blob = settings.blob_dir / sha[:2] / sha[2:4] / sha
    blob.unlink()
    blob.mkdir()
    assert client.get(f"/v1/items/{item_id}/original").status_code == 500
    found = samples(client)
    assert value(found, "loupe_errors_total", type="internal") == 1
    assert (
        value(found, "loupe_http_request_seconds_count", route="/v1/items/{item_id}/original") == 1
    )


def test_healthz_answers_while_every_worker_thread_is_taken(client: TestClient) -> None:
    """A liveness probe must not queue behind searches and uploads for a worker thread (nor
    hop threads under a busy GIL): with every token of the thread pool taken, it answers."""
    assert client.portal is not None
    limiter = client.portal.call(anyio.to_thread.current_default_thread_limiter)
    holders = [object() for _ in range(int(limiter.total_tokens))]
    for holder in holders:
        client.portal.call(limiter.acquire_on_behalf_of_nowait, holder)
    answer: dict[str, Any] = {}
    probe = threading.Thread(target=lambda: answer.update(r=client.get("/healthz")), daemon=True)
    try:
        probe.start()
        probe.join(timeout=20)
        assert "r" in answer, "/healthz waited for a worker thread"
        assert answer["r"].json() == {"status": "ok"}
    finally:
        for holder in holders:
            client.portal.call(limiter.release_on_behalf_of, holder)
        probe.join(timeout=20)
