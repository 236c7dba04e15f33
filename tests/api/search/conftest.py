"""Search through the HTTP API with the real bundled encoder (the routes of
``api/routes/search.py``): one app and one collection serve the whole package (uploading is the
slow part); tests only read it. The collection: the 10 sample photos (tags by subject, metadata
by batch), two near-duplicate copies of the cat, a PNG photo of grass, and two text items.

Queries by text, photo and id, hybrid and negative, are in ``test_queries``; filters in
``test_filters``; what an answer says (pages, thresholds, matches, totals, duplicates) in
``test_answers``; bad queries in ``test_bad_queries``."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import skimage.data
from fastapi.testclient import TestClient
from PIL import Image

from loupe.api.app import create_app
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import AUTH, make_settings, wait_job

BATCHES: list[tuple[list[str], str, dict[str, Any]]] = [
    (["cat", "coffee"], "sample,home", {"year": 2019, "camera": "x100"}),
    (["rocket", "motorcycle"], "sample,vehicle", {"year": 2021, "camera": "gr"}),
    (
        ["astronaut", "galaxies", "cameraman", "coins", "temple", "flower"],
        "sample",
        {"year": 2023},
    ),
]
GOOD = ["a cat", "a cup of coffee", "an animal", "a vehicle", "一只可爱的猫咪", "一杯咖啡", "火箭"]
NONSENSE = [
    "qwzx flurb",
    "asdfgh",
    "a spreadsheet of quarterly tax figures",
    "量子色动力学的拉格朗日量",
]


def jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def cropped(image: Image.Image, share: float) -> Image.Image:
    dx, dy = int(image.width * share / 2), int(image.height * share / 2)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


def post_files(
    client: TestClient,
    files: list[tuple[str, bytes, str]],
    *,
    tags: str = "",
    metadata: dict[str, Any] | None = None,
) -> dict[str, str]:
    data = {"tags": tags, "metadata": json.dumps(metadata or {})}
    parts = [("files", f) for f in files]
    response = client.post("/v1/items", files=parts, data=data)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert wait_job(client, body["job_id"])["state"] == "succeeded"
    return {Path(i["filename"]).stem: i["id"] for i in body["items"]}


@pytest.fixture(scope="package")
def world(
    tmp_path_factory: pytest.TempPathFactory, sample_dir: Path, encoders: EncoderPool
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = make_settings(tmp_path_factory.mktemp("search-api"))
    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client:
        ids: dict[str, str] = {}
        for stems, tags, metadata in BATCHES:
            files = [
                (f"{s}.jpg", (sample_dir / f"{s}.jpg").read_bytes(), "image/jpeg") for s in stems
            ]
            ids |= post_files(client, files, tags=tags, metadata=metadata)
        cat = Image.open(sample_dir / "cat.jpg").convert("RGB")
        copies = [
            ("cat_q50.jpg", jpeg(cat, 50), "image/jpeg"),
            ("cat_crop.jpg", jpeg(cropped(cat, 0.08), 85), "image/jpeg"),
        ]
        ids |= post_files(client, copies, tags="copy")
        grass = io.BytesIO()
        Image.open(Path(skimage.data.__file__).parent / "grass.png").convert("RGB").save(
            grass, format="PNG"
        )
        ids |= post_files(client, [("grass.png", grass.getvalue(), "image/png")], tags="texture")
        texts = {"items": [{"text": "A recipe for tomato soup"}, {"text": "Fixing a bicycle"}]}
        response = client.post("/v1/items", json=texts)
        assert wait_job(client, response.json()["job_id"])["state"] == "succeeded"
        yield client, ids


@pytest.fixture
def api(world: tuple[TestClient, dict[str, str]]) -> TestClient:
    return world[0]


@pytest.fixture
def ids(world: tuple[TestClient, dict[str, str]]) -> dict[str, str]:
    return world[1]


def stems(result: dict[str, Any]) -> list[str]:
    return [Path(h["filename"]).stem if h.get("filename") else h["text"] for h in result["hits"]]


def image_search(api: TestClient, data: bytes, **fields: Any) -> dict[str, Any]:
    files = {"file": ("query.jpg", data, "image/jpeg")}
    response = api.post("/v1/search/image", files=files, data=fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
