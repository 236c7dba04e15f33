"""Photo management through the HTTP API: PATCH an item's tags and metadata, tag and delete
many at once, tags of a duplicate re-upload, and resuming a cancelled job."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import search, wait_job

Upload = Callable[..., dict[str, Any]]


def tagged(client: TestClient, tag: str) -> set[str]:
    hits = search(client, text="a photo", limit=50, filter={"tags": [tag]})["hits"]
    return {h["filename"] for h in hits}


def test_patch_replaces_adds_and_removes_tags_and_merges_metadata(
    client: TestClient, sample_dir: Path, upload: Upload
) -> None:
    cat = upload(sample_dir / "cat.jpg", tags="pets")["items"][0]["id"]
    first = client.patch(f"/v1/items/{cat}", json={"tags": ["home", "2024"], "metadata": {"a": 1}})
    assert first.status_code == 200, first.text
    assert first.json()["tags"] == ["home", "2024"]
    second = client.patch(
        f"/v1/items/{cat}",
        json={
            "add_tags": ["favourite"],
            "remove_tags": ["2024"],
            "metadata": {"a": None, "b": "x"},
        },
    ).json()
    assert second["tags"] == ["home", "favourite"]
    assert second["metadata"] == {"b": "x"}
    assert client.get(f"/v1/items/{cat}").json()["tags"] == ["home", "favourite"]
    assert tagged(client, "favourite") == {"cat.jpg"}
    assert tagged(client, "pets") == set()
    # The vectors were kept: the cat is still found by words.
    assert search(client, text="a cat")["hits"][0]["id"] == cat


def test_patch_refuses_unknown_items_and_bad_bodies(
    client: TestClient, gallery: dict[str, str]
) -> None:
    unknown = client.patch("/v1/items/00000000-0000-0000-0000-000000000000", json={"tags": ["x"]})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["type"] == "not_found"
    bad = client.patch(f"/v1/items/{gallery['cat']}", json={"tags": "not a list"})
    assert bad.status_code == 422
    extra = client.patch(f"/v1/items/{gallery['cat']}", json={"colour": "red"})
    assert extra.status_code == 422


def test_bulk_tag_and_bulk_delete(client: TestClient, gallery: dict[str, str]) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    some = [gallery["cat"], gallery["coffee"], missing]
    tags = client.post("/v1/items/bulk/tags", json={"ids": some, "add_tags": ["picked"]}).json()
    assert tags == {"changed": [gallery["cat"], gallery["coffee"]], "missing": [missing]}
    assert tagged(client, "picked") == {"cat.jpg", "coffee.jpg"}
    gone = client.post("/v1/items/bulk/delete", json={"ids": some}).json()
    assert gone == {"changed": [gallery["cat"], gallery["coffee"]], "missing": [missing]}
    assert client.get(f"/v1/items/{gallery['cat']}").status_code == 404
    assert client.get(f"/v1/items/{gallery['coffee']}/original").status_code == 404
    names = {h["filename"] for h in search(client, text="a cat", limit=50)["hits"]}
    assert names.isdisjoint({"cat.jpg", "coffee.jpg"}) and len(names) == len(gallery) - 2


def test_tags_of_a_duplicate_re_upload_are_added(
    client: TestClient, sample_dir: Path, upload: Upload
) -> None:
    first = upload(sample_dir / "cat.jpg", tags="pets")["items"][0]
    again = upload(sample_dir / "cat.jpg", tags="holiday,pets")
    assert again["job_id"] is None
    assert again["items"][0]["status"] == "duplicate"
    assert client.get(f"/v1/items/{first['id']}").json()["tags"] == ["pets", "holiday"]


def test_a_cancelled_upload_resumes_and_finishes(client: TestClient, sample_dir: Path) -> None:
    paths = sorted(sample_dir.glob("*.jpg"))
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in paths]
    body = client.post("/v1/items", files=files).json()
    job_id = body["job_id"]
    cancelled = client.post(f"/v1/jobs/{job_id}/cancel").json()
    assert cancelled["state"] == "cancelled"
    settled = wait_job(client, job_id)  # in-flight units may still finish: counts say which
    assert settled["done"] + settled["pending"] + settled["failed"] == len(paths)
    resumed = client.post(f"/v1/jobs/{job_id}/resume")
    assert resumed.status_code == 202, resumed.text
    done = wait_job(client, job_id)
    assert (done["state"], done["done"]) == ("succeeded", len(paths))
    again = client.post(f"/v1/jobs/{job_id}/resume")
    assert again.status_code == 409  # a succeeded job has nothing to resume


def test_browse_without_a_query_newest_first_by_date_taken(
    client: TestClient, sample_dir: Path, upload: Upload, tmp_path: Path
) -> None:
    from loupe.ingest.exif_date import DATE_TIME_ORIGINAL
    from tests.ingest.test_exif_date import jpeg

    (tmp_path / "old.jpg").write_bytes(jpeg({}, {DATE_TIME_ORIGINAL: "2019:06:01 14:30:00"}))
    upload(tmp_path / "old.jpg", tags="old")
    upload(sample_dir / "cat.jpg", sample_dir / "coffee.jpg", tags="sample")
    everything = client.get("/v1/items").json()
    assert everything["total"] == 3
    names = [h["filename"] for h in everything["hits"]]
    assert names[-1] == "old.jpg", "taken in 2019: last when newest come first"
    dates = [h["taken_at"] for h in everything["hits"]]
    assert dates == sorted(dates, reverse=True)
    oldest = client.get("/v1/items", params={"order": "asc", "limit": 1}).json()
    assert [h["filename"] for h in oldest["hits"]] == ["old.jpg"]
    assert oldest["next_offset"] == 1
    one_tag = client.get("/v1/items", params={"tag": "sample"}).json()
    assert {h["filename"] for h in one_tag["hits"]} == {"cat.jpg", "coffee.jpg"}
    assert one_tag["total"] == 2
    assert client.get("/v1/items", params={"sort": "score"}).status_code == 422
