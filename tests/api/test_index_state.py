"""The index state of each collection, in /v1/admin/collections and /metrics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import AUTH


def gauges(client: TestClient) -> dict[tuple[str, str], float]:
    text = client.get("/metrics").text
    return {
        (s.name, s.labels.get("state", "")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("loupe_index")
    }


def live(client: TestClient) -> dict[str, Any]:
    response = client.get("/v1/admin/collections", headers=AUTH)
    assert response.status_code == 200, response.text
    return next(c for c in response.json() if c["live"])


def test_points_pending_until_a_build_then_indexed(
    client: TestClient, sample_dir: Path, upload: Callable[..., dict[str, Any]]
) -> None:
    upload(*sorted(sample_dir.glob("*.jpg")))
    before = live(client)
    points = before["points"]
    assert points > 0
    assert before["index"]["pending"] == points
    assert before["index"]["indexed"] == 0
    assert before["index"]["build_running"] is False
    assert before["index"]["last_build_s"] is None
    assert gauges(client)[("loupe_index_points", "pending")] == points

    client.app.state.ingest.stores.index.optimize(before["name"])  # type: ignore[attr-defined]

    after = live(client)["index"]
    assert (after["indexed"], after["pending"]) == (points, 0)
    assert after["last_build_s"] is not None and after["last_build_s"] > 0
    metrics = gauges(client)
    assert metrics[("loupe_index_points", "indexed")] == points
    assert metrics[("loupe_index_building", "")] == 0
    assert metrics[("loupe_index_last_build_seconds", "")] == after["last_build_s"]
    assert client.post("/v1/search", json={"text": "a cat"}).status_code == 200
