"""Fused text search over the API: concepts in the answer (``why``), and the migration of a
collection built before concepts (model ``...-v1``) through reindex, with searches running."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from loupe.api.app import create_app
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import AUTH, make_settings, search, top_stems, wait_job

pytestmark = pytest.mark.slow


def test_fused_hits_say_which_concepts_matched(client: TestClient, gallery: dict[str, str]) -> None:
    for text in ("a cat", "猫", "kitty cats"):
        result = search(client, text=text, limit=3)
        assert result["model_id"].endswith("-v2")
        assert top_stems(result) == ["cat"], text
        why = result["hits"][0]["why"]
        assert why and all(w["weight"] > 0 for w in why)
        assert any("cat" in w["name"] for w in why), why
        assert any(w["name_zh"] for w in why)
    coffee = search(client, text="一杯咖啡", limit=1)
    assert top_stems(coffee) == ["coffee"] and coffee["hits"][0]["why"]
    nothing = search(client, text="qwzx flurb", limit=3)
    assert nothing["no_good_match"] is True
    assert all(h["why"] == [] for h in nothing["hits"])


@pytest.fixture
def old_client(tmp_path: Path) -> Iterator[TestClient]:
    pool = EncoderPool("bundled:multi:v1", device="cpu", batch_size=32, wait_ms=5)
    settings = make_settings(tmp_path / "data", model="bundled:multi:v1")
    try:
        with TestClient(create_app(settings, encoders=pool), headers=AUTH) as test_client:
            yield test_client
    finally:
        pool.close()


def test_collection_without_concepts_migrates_by_reindex(
    old_client: TestClient, sample_dir: Path
) -> None:
    client = old_client
    files = [
        ("files", (p.name, p.read_bytes(), "image/jpeg")) for p in sorted(sample_dir.glob("*.jpg"))
    ]
    body = client.post("/v1/items", files=files).json()
    assert wait_job(client, body["job_id"])["state"] == "succeeded"
    before = search(client, text="a cat", limit=3)
    assert before["model_id"] == "bundled-effl0-e5s-v1"
    assert before["hits"][0]["why"] == []

    failures: list[str] = []
    models: set[str] = set()
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            response = client.post("/v1/search", json={"text": "a cat", "limit": 3})
            if response.status_code != 200:
                failures.append(response.text)
                continue
            answer: dict[str, Any] = response.json()
            models.add(answer["model_id"])
            if top_stems(answer) != ["cat"]:
                failures.append(f"{top_stems(answer)} with {answer['model_id']}")

    thread = threading.Thread(target=searcher)
    thread.start()
    try:
        started = client.post("/v1/admin/reindex", json={"model": "bundled"}, headers=AUTH)
        assert started.status_code == 202, started.text
        assert wait_job(client, started.json()["id"])["state"] == "succeeded"
        for _ in range(200):
            after = search(client, text="a cat", limit=3)
            if after["model_id"] == "bundled-effl0-usem3-v2":
                break
    finally:
        stop.set()
        thread.join()
    assert failures == []
    # the earlier default's collection moves to the new default's model (and text tower)
    assert models <= {"bundled-effl0-e5s-v1", "bundled-effl0-usem3-v2"}
    assert after["model_id"] == "bundled-effl0-usem3-v2"
    assert top_stems(after) == ["cat"] and after["hits"][0]["why"]
