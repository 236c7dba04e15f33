"""Bad files never hurt the service: uploads (broken, lying, bombs, too big, too many), bulk
sources outside the allowed roots, zip bombs and zip-slip, and bad image-search uploads."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from loupe.api.app import create_app
from loupe.search.encoders.pool import EncoderPool
from tests.api.bad_input.conftest import (
    HTML,
    SVG,
    Check,
    assert_refused,
    upload,
)
from tests.api.conftest import AUTH, make_settings, wait_job
from tests.ingest.test_validate import jpeg, png_bomb


@pytest.mark.parametrize(
    ("data", "name", "ctype", "status"),
    [
        pytest.param(b"", "empty.jpg", "image/jpeg", 422, id="zero-byte"),
        pytest.param(jpeg()[:300], "cut.jpg", "image/jpeg", 422, id="truncated-jpeg"),
        pytest.param(png_bomb(), "bomb.png", "image/png", (413, 422), id="png-bomb-30000x30000"),
        pytest.param(jpeg(), "photo.png", "application/octet-stream", 422, id="lying-extension"),
        pytest.param(jpeg(), "photo.jpg", "image/png", 422, id="lying-content-type"),
        pytest.param(SVG, "logo.svg", "image/svg+xml", 422, id="svg"),
        pytest.param(SVG, "logo.png", "image/png", 422, id="svg-as-png"),
        pytest.param(HTML, "page.html", "text/html", 422, id="html"),
        pytest.param(HTML, "page.jpg", "image/jpeg", 422, id="html-as-jpeg"),
    ],
)
def test_bad_image_upload(
    svc: TestClient, refused: Check, data: bytes, name: str, ctype: str, status: Any
) -> None:
    refused(upload(svc, data, name, ctype), status)


def test_a_bad_file_is_refused_and_the_good_ones_go_in_the_same_request(
    svc: TestClient,
) -> None:
    files = [
        ("files", ("ok.jpg", jpeg(color="blue"), "image/jpeg")),
        ("files", ("x.jpg", b"", "image/jpeg")),
        ("files", ("ok2.jpg", jpeg(color="green"), "image/jpeg")),
    ]
    response = svc.post("/v1/items", files=files)
    assert response.status_code == 202, response.text
    body = response.json()
    items = [(i["filename"], i["status"]) for i in body["items"]]
    assert items == [("ok.jpg", "queued"), ("x.jpg", "refused"), ("ok2.jpg", "queued")]
    assert body["items"][1]["id"] is None
    assert body["items"][1]["error"] == "the file is empty"
    job = wait_job(svc, body["job_id"])
    assert (job["state"], job["total"], job["done"]) == ("succeeded", 2, 2)


def test_a_request_of_only_bad_files_is_refused(svc: TestClient, refused: Check) -> None:
    files = [
        ("files", ("x.jpg", b"", "image/jpeg")),
        ("files", ("y.jpg", b"not a photo", "image/jpeg")),
    ]
    body = refused(svc.post("/v1/items", files=files), 422)
    assert "x.jpg" in body["error"]["message"]


def test_upload_over_the_size_limit(
    tmp_path: Path, encoders: EncoderPool, sample_dir: Path
) -> None:
    settings = make_settings(tmp_path / "data", max_upload_bytes=4096)
    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client:
        big = (sample_dir / "cat.jpg").read_bytes()
        assert len(big) > 4096
        assert_refused(upload(client, big, "cat.jpg", "image/jpeg"), 413)
        small = jpeg((8, 8))
        assert upload(client, small, "small.jpg", "image/jpeg").status_code == 202
        assert client.get("/healthz").status_code == 200


@pytest.mark.slow
def test_a_real_50_mb_body_against_the_default_limit(svc: TestClient, refused: Check) -> None:
    huge = b"\xff\xd8\xff\xe0" + b"\x00" * (50 * 1024 * 1024)
    body = refused(upload(svc, huge, "huge.jpg", "image/jpeg"), 413)
    assert "larger than" in body["error"]["message"]


def test_more_files_than_allowed(svc: TestClient, refused: Check) -> None:
    tiny = jpeg((4, 4))
    files = [("files", (f"{i}.jpg", tiny, "image/jpeg")) for i in range(1000)]
    body = refused(svc.post("/v1/items", files=files), 413)
    assert "at most 100 files" in body["error"]["message"]
    files = [("files", (f"{i}.jpg", tiny, "image/jpeg")) for i in range(101)]
    refused(svc.post("/v1/items", files=files), 413)


@pytest.fixture
def roots(svc: TestClient) -> Path:
    root: Path = svc.app.state.settings.ingest_roots[0]  # type: ignore[attr-defined]
    return root


def jobs_count(client: TestClient) -> int:
    return len(client.app.state.ingest.recent_jobs(limit=500))  # type: ignore[attr-defined]


def test_bulk_source_escapes_are_refused(
    svc: TestClient, refused: Check, roots: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(jpeg())
    (roots / "to-outside").symlink_to(outside)
    album = roots / "album"
    album.mkdir()
    (album / "fine.jpg").write_bytes(jpeg(color="green"))
    (album / "escape.jpg").symlink_to(outside / "secret.jpg")
    before = jobs_count(svc)
    cases: list[tuple[str, int | tuple[int, ...]]] = [
        ("../../../../etc", 403),
        ("/etc", 403),
        (str(outside), 403),
        (str(roots / ".." / "blobs"), 403),
        (str(roots.parent), 403),
        ("album/../../", 403),
        ("to-outside", 403),
        ("album", 403),
        ("does-not-exist", 404),
        ("a\x00b", 422),
    ]
    for path, status in cases:
        body = refused(svc.post("/v1/jobs", json={"source": {"path": path}}), status)
        assert str(tmp_path) not in body["error"]["message"], body
    assert jobs_count(svc) == before


def test_zip_bomb_and_zip_slip_are_refused(svc: TestClient, refused: Check, roots: Path) -> None:
    bomb = roots / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.jpg", b"\x00" * 20_000_000)
    slip = roots / "slip.zip"
    with zipfile.ZipFile(slip, "w") as zf:
        zf.writestr("../../evil.jpg", jpeg())
    not_zip = roots / "fake.zip"
    not_zip.write_bytes(b"PK\x03\x04 but not really")
    before = jobs_count(svc)
    for name, fragment in [("bomb.zip", "zip bomb"), ("slip.zip", "zip-slip"), ("fake.zip", "zip")]:
        body = refused(svc.post("/v1/jobs", json={"source": {"path": name}}), 422)
        assert fragment in body["error"]["message"]
    assert jobs_count(svc) == before


def test_bad_image_search_uploads(svc: TestClient, refused: Check) -> None:
    post = svc.post
    refused(post("/v1/search/image", files={"file": ("a.txt", b"hello", "text/plain")}), 422)
    refused(post("/v1/search/image", files={"file": ("a.jpg", b"", "image/jpeg")}), 422)
    refused(post("/v1/search/image", files={"file": ("a.svg", SVG, "image/svg+xml")}), 422)
    refused(post("/v1/search/image", files={"file": ("b.png", png_bomb(), "image/png")}), 422)
    refused(post("/v1/search/image", data={"text": "cat"}), 422)
    photo = {"file": ("a.jpg", jpeg(), "image/jpeg")}
    refused(post("/v1/search/image", files=photo, data={"options": "{not json"}), 422)
    refused(post("/v1/search/image", files=photo, data={"options": '{"limit": "5"}'}), 422)
    refused(post("/v1/search/image", files=photo, data={"options": "[1]"}), 422)
