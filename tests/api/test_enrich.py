"""What the enrichers saw, through the HTTP API: the item view, alt text on hits, and the
filters (text contains, colours, people, objects) on a small real gallery."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from loupe.api.app import create_app
from loupe.ingest.enrich.objects import objects_available
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import AUTH, make_settings, wait_job
from tests.ingest.test_enrich import photo, sign_photo

pytestmark = pytest.mark.slow


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _gallery() -> dict[str, bytes]:
    blue = np.zeros((600, 800, 3), np.uint8)
    blue[:] = (30, 70, 210)
    return {
        "sign.jpg": _jpeg(sign_photo()),
        "cat.jpg": _jpeg(photo("chelsea")),
        "astronaut.jpg": _jpeg(photo("astronaut")),
        "blue.jpg": _jpeg(Image.fromarray(blue)),
        "tiny.png": _png(Image.new("RGB", (4, 4), (200, 10, 10))),
    }


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _open(
    tmp: Path, encoders: EncoderPool, enrichers: str
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = make_settings(tmp / "data", enrichers=enrichers)
    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client:
        files = [
            ("files", (name, data, "image/png" if name.endswith(".png") else "image/jpeg"))
            for name, data in _gallery().items()
        ]
        response = client.post("/v1/items", files=files)
        assert response.status_code == 202, response.text
        body = response.json()
        assert wait_job(client, body["job_id"])["state"] == "succeeded"
        yield client, {Path(i["filename"]).stem: i["id"] for i in body["items"]}


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, encoders: EncoderPool
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    yield from _open(tmp_path_factory.mktemp("enrich"), encoders, "ocr,faces,colour")


def _found(client: TestClient, ids: dict[str, str], flt: dict[str, Any]) -> set[str]:
    response = client.post(
        "/v1/search",
        json={"text": "a photo", "limit": 50, "filter": flt, "collapse_duplicates": False},
    )
    assert response.status_code == 200, response.text
    names = {v: k for k, v in ids.items()}
    return {names[h["id"]] for h in response.json()["hits"]}


def test_the_item_shows_what_was_seen(api: tuple[TestClient, dict[str, str]]) -> None:
    client, ids = api
    item = client.get(f"/v1/items/{ids['sign']}").json()
    enrich = item["enrich"]
    assert [line["text"] for line in enrich["text_lines"]] == ["RE16 TGK", "中山路出口"]
    assert "text_grams" not in enrich
    assert enrich["ran"] == ["ocr", "faces", "colour"]
    assert "RE16 TGK" in item["alt"]["en"]
    astronaut = client.get(f"/v1/items/{ids['astronaut']}").json()
    assert astronaut["enrich"]["people"] == 1 and astronaut["enrich"]["faces"] == 1


def test_a_tiny_image_ingests_with_empty_fields(api: tuple[TestClient, dict[str, str]]) -> None:
    client, ids = api
    enrich = client.get(f"/v1/items/{ids['tiny']}").json()["enrich"]
    assert enrich["ran"] == [] and enrich["text"] == "" and enrich["colours"] == []


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"text_contains": "RE16"}, {"sign"}),
        ({"text_contains": "tgk"}, {"sign"}),
        ({"text_contains": "中山"}, {"sign"}),
        ({"text_contains": "路出口"}, {"sign"}),
        ({"text_contains": "XYZ"}, set()),
        ({"colours": ["blue"]}, {"blue"}),
        ({"colours": ["蓝色"]}, {"blue"}),
        ({"people_min": 1}, {"astronaut"}),
        ({"people_max": 0}, {"sign", "cat", "blue"}),
    ],
)
def test_filters_on_what_was_seen(
    api: tuple[TestClient, dict[str, str]], flt: dict[str, Any], expected: set[str]
) -> None:
    client, ids = api
    assert _found(client, ids, flt) == expected


@pytest.mark.parametrize(
    "flt",
    [
        {"objects": ["unicorn"]},
        {"colours": ["plaid"]},
        {"text_contains": "   "},
        {"people_min": 3, "people_max": 1},
        {"people_min": -1},
    ],
)
def test_bad_enricher_filters_are_422(
    api: tuple[TestClient, dict[str, str]], flt: dict[str, Any]
) -> None:
    client, _ = api
    response = client.post("/v1/search", json={"text": "a photo", "filter": flt})
    assert response.status_code == 422, response.text
    assert set(response.json()["error"]) == {"type", "message"}


def test_hits_carry_alt_text(api: tuple[TestClient, dict[str, str]]) -> None:
    client, ids = api
    hits = client.post("/v1/search", json={"text": "a photo", "limit": 50}).json()["hits"]
    by_id = {h["id"]: h for h in hits}
    assert "中山路出口" in by_id[ids["sign"]]["alt"]["zh"]


@pytest.mark.skipif(not objects_available(), reason="the optional loupe[objects] is not installed")
def test_objects_filter_with_the_optional_detector(tmp_path: Path, encoders: EncoderPool) -> None:
    for client, ids in _open(tmp_path, encoders, "objects,colour"):
        assert _found(client, ids, {"objects": ["cat"]}) == {"cat", "sign"}
        assert _found(client, ids, {"objects": ["猫"]}) == {"cat", "sign"}
        assert _found(client, ids, {"objects": ["cat", "person"]}) == set()
        cat = client.get(f"/v1/items/{ids['cat']}").json()
        assert cat["enrich"]["object_counts"] == {"cat": 1}
        assert cat["alt"]["en"].startswith("A photo of a cat.")


def _search(client: TestClient, text: str) -> list[dict[str, Any]]:
    response = client.post("/v1/search", json={"text": text, "limit": 10})
    assert response.status_code == 200, response.text
    hits: list[dict[str, Any]] = response.json()["hits"]
    return hits


@pytest.mark.parametrize("query", ["RE16", "a sign that says TGK", "中山路", "出口在哪里"])
def test_text_read_in_a_photo_ranks_it_first_and_says_why(
    api: tuple[TestClient, dict[str, str]], query: str
) -> None:
    client, ids = api
    hits = _search(client, query)
    assert hits[0]["id"] == ids["sign"]
    assert hits[0]["match"] in ("strong", "weak")
    seen = hits[0]["seen"]
    assert seen and seen[0]["kind"] == "text"
    assert seen[0]["detail"] in ("RE16 TGK", "中山路出口")


def test_a_word_inside_another_word_is_not_evidence(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    """'E16' is in 'RE16' but is not a word of it: no text evidence for the sign."""
    client, ids = api
    by_id = {h["id"]: h for h in _search(client, "E16")}
    assert not by_id.get(ids["sign"], {"seen": []})["seen"]


def test_people_and_colours_named_in_a_query_are_evidence(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, ids = api
    people = _search(client, "a woman")
    assert people[0]["id"] == ids["astronaut"]
    assert people[0]["seen"] == [{"kind": "object", "value": "person", "detail": None}]
    for query in ("an astronaut", "宇航员"):  # not in the attribute tables: WordNet, CC-CEDICT
        found = _search(client, query)
        assert found[0]["id"] == ids["astronaut"], query
        assert {"kind": "object", "value": "person", "detail": None} in found[0]["seen"]
    blue = _search(client, "something blue")
    assert blue[0]["id"] == ids["blue"]
    assert {"kind": "colour", "value": "blue", "detail": None} in blue[0]["seen"]


def test_an_enrich_job_backfills_images_stored_before(
    tmp_path: Path, encoders: EncoderPool
) -> None:
    """Images ingested with only the colour enricher get their text read by an enrich job once
    OCR is switched on; images already current are left alone; search answers meanwhile."""
    data = tmp_path / "data"
    for client, ids in _open(tmp_path, encoders, "colour"):
        assert "text" not in client.get(f"/v1/items/{ids['sign']}").json()["enrich"]
    with TestClient(
        create_app(make_settings(data, enrichers="ocr,colour"), encoders=encoders), headers=AUTH
    ) as client:
        assert _found(client, ids, {"text_contains": "RE16"}) == set()
        response = client.post("/v1/admin/enrich", json={})
        assert response.status_code == 202, response.text
        job = response.json()
        assert job["kind"] == "enrich" and job["total"] == 5  # the four photos and the tiny one
        assert client.post("/v1/search", json={"text": "a cat"}).status_code == 200
        assert wait_job(client, job["id"])["state"] == "succeeded"
        enrich = client.get(f"/v1/items/{ids['sign']}").json()["enrich"]
        assert enrich["text"] == "RE16 TGK 中山路出口" and enrich["enrichers"] == ["ocr", "colour"]
        assert _found(client, ids, {"text_contains": "RE16"}) == {"sign"}
        again = client.post("/v1/admin/enrich", json={}).json()
        assert again["total"] == 0 and again["state"] == "succeeded"
        assert client.post("/v1/admin/enrich", json={"all": True}).json()["total"] == 5


def test_evidence_can_be_switched_off(tmp_path: Path, encoders: EncoderPool) -> None:
    settings = make_settings(tmp_path / "data", enrichers="ocr", search_evidence=False)
    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client:
        files = [("files", ("sign.jpg", _jpeg(sign_photo()), "image/jpeg"))]
        body = client.post("/v1/items", files=files).json()
        assert wait_job(client, body["job_id"])["state"] == "succeeded"
        hits = _search(client, "RE16")
        assert hits[0]["seen"] == []
