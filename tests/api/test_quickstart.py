"""The first things a user does: upload the sample gallery, search it in English and Chinese."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import search, top_stems

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("query", "stem"),
    [
        ("a cat", "cat"),
        ("a cup of coffee", "coffee"),
        ("a rocket", "rocket"),
        ("a motorcycle", "motorcycle"),
        ("一只可爱的猫咪", "cat"),
        ("一杯咖啡", "coffee"),
        ("火箭", "rocket"),
        ("一辆摩托车", "motorcycle"),
    ],
)
def test_text_finds_the_right_photo_first(
    client: TestClient, gallery: dict[str, str], query: str, stem: str
) -> None:
    result = search(client, text=query, limit=5)
    assert top_stems(result) == [stem]
    assert result["model_id"].startswith("bundled")
    assert result["took_ms"] > 0
    hit = result["hits"][0]
    assert hit["id"] == gallery[stem]
    assert hit["metadata"] == {} and hit["tags"] == ["sample"]
    assert hit["thumbnail_url"] == f"/v1/items/{hit['id']}/thumbnail"


def test_same_bytes_twice_is_one_item(
    client: TestClient, sample_dir: Path, upload: Callable[..., dict[str, Any]]
) -> None:
    first = upload(sample_dir / "cat.jpg")
    second = upload(sample_dir / "cat.jpg")
    assert first["items"][0]["status"] == "queued"
    assert second["items"][0] == {**first["items"][0], "status": "duplicate"}
    assert second["job_id"] is None
    body = search(client, text="a cat", limit=50)
    assert [h["id"] for h in body["hits"]].count(first["items"][0]["id"]) == 1


def test_items_thumbnail_original_delete(
    client: TestClient, gallery: dict[str, str], sample_dir: Path
) -> None:
    item_id = gallery["coffee"]
    item = client.get(f"/v1/items/{item_id}").json()
    assert item["filename"] == "coffee.jpg" and item["mime"] == "image/jpeg"
    thumb = client.get(f"/v1/items/{item_id}/thumbnail")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
    assert thumb.headers["x-content-type-options"] == "nosniff"
    original = client.get(f"/v1/items/{item_id}/original")
    assert original.content == (sample_dir / "coffee.jpg").read_bytes()
    assert client.delete(f"/v1/items/{item_id}").status_code == 204
    assert client.get(f"/v1/items/{item_id}").status_code == 404
    assert item_id not in [h["id"] for h in search(client, text="coffee", limit=50)["hits"]]


def test_text_items_are_searchable(client: TestClient) -> None:
    response = client.post(
        "/v1/items",
        json={
            "items": [
                {"text": "A recipe for tomato soup with basil", "tags": ["recipe"]},
                {"text": "How to change a bicycle tyre"},
            ]
        },
    )
    assert response.status_code == 202
    from tests.api.conftest import wait_job

    assert wait_job(client, response.json()["job_id"])["state"] == "succeeded"
    result = search(client, text="soup", limit=2, filter={"modality": "text"})
    assert result["hits"][0]["text"].startswith("A recipe for tomato soup")
