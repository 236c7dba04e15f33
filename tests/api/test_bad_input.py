"""Bad input never hurts the service: every case answers a 4xx ``{"error": {"type",
"message"}}``, the service stays healthy and searchable, and no item is stored."""

from __future__ import annotations

import base64
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from loupe.api.app import create_app
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import AUTH, make_settings, wait_job

UNKNOWN = "00000000-0000-4000-8000-000000000000"
Check = Callable[..., dict[str, Any]]


def jpeg(size: tuple[int, int] = (64, 48), color: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="JPEG")
    return buf.getvalue()


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose header declares width x height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress((b"\x00" + b"\x00" * (width * 3)) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def svc(
    tmp_path_factory: pytest.TempPathFactory, encoders: EncoderPool, sample_dir: Path
) -> Iterator[TestClient]:
    """One app for the module, holding a cat photo and a text."""
    settings = make_settings(tmp_path_factory.mktemp("bad") / "data")
    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client:
        cat = ("files", ("cat.jpg", (sample_dir / "cat.jpg").read_bytes(), "image/jpeg"))
        for response in (
            client.post("/v1/items", files=[cat]),
            client.post("/v1/items", json={"items": [{"text": "a note about the harbour"}]}),
        ):
            assert response.status_code == 202, response.text
            assert wait_job(client, response.json()["job_id"])["state"] == "succeeded"
        yield client


@pytest.fixture(scope="module")
def cat_id(svc: TestClient) -> str:
    hits = svc.post("/v1/search", json={"text": "a cat", "limit": 1}).json()["hits"]
    return str(hits[0]["id"])


def stored(client: TestClient) -> int:
    ingest = client.app.state.ingest  # type: ignore[attr-defined]
    ingest.dispatcher.wait_idle(60)
    return int(ingest.live_points())


def assert_refused(
    response: httpx.Response, status: int | tuple[int, ...] | None
) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    if status is not None:
        expected = status if isinstance(status, tuple) else (status,)
        assert response.status_code in expected, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"type", "message"}
    assert isinstance(body["error"]["type"], str)
    assert body["error"]["message"]
    return body


def assert_healthy(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    result = client.post("/v1/search", json={"text": "a cat", "limit": 3})
    assert result.status_code == 200, result.text
    assert [h["filename"] for h in result.json()["hits"]][:1] == ["cat.jpg"]


@pytest.fixture
def refused(svc: TestClient, cat_id: str) -> Iterator[Check]:
    """``refused(response, status)``: a 4xx error body; after the test the service answers
    and stores exactly as many items as before."""
    before = stored(svc)
    yield assert_refused
    assert_healthy(svc)
    assert stored(svc) == before


def upload(client: TestClient, data: bytes, name: str, ctype: str) -> httpx.Response:
    return client.post("/v1/items", files=[("files", (name, data, ctype))])


SVG = b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'></svg>"
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


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


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"items": [{"text": "\xff\xfe bad bytes"}]}', id="raw-non-utf8"),
        pytest.param(b'{"items": [{"text": "\\x41"}]}', id="invalid-escape"),
        pytest.param(b'{"items": [{"text": "\\ud800 lone surrogate"}]}', id="lone-surrogate"),
        pytest.param(b'{"items": [{"text": "   "}]}', id="blank"),
        pytest.param(b'{"items": []}', id="no-items"),
        pytest.param(b'{"items": [{"text": "a"}', id="malformed"),
        pytest.param(b"", id="empty-body"),
        pytest.param(b"null", id="null"),
    ],
)
def test_bad_text_items(svc: TestClient, refused: Check, raw: bytes) -> None:
    headers = {"content-type": "application/json"}
    refused(svc.post("/v1/items", content=raw, headers=headers), 422)


def test_text_over_the_limit(svc: TestClient, refused: Check) -> None:
    body = refused(svc.post("/v1/items", json={"items": [{"text": "x" * 100_000}]}), 422)
    assert "limit" in body["error"]["message"]


def test_neither_multipart_nor_json(svc: TestClient, refused: Check) -> None:
    refused(svc.post("/v1/items", content=b"hello", headers={"content-type": "text/plain"}), 422)


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/v1/search", b'{"text": "cat"'),
        ("/v1/search", b'{"text": "\\ud800"}'),
        ("/v1/search", b'{"text": "\xff"}'),
        ("/v1/search", b"[1, 2]"),
        ("/v1/jobs", b'{"source": '),
        ("/v1/jobs", b'{"source": {"path": "\\udfff"}}'),
    ],
)
def test_malformed_json(svc: TestClient, refused: Check, path: str, raw: bytes) -> None:
    headers = {"content-type": "application/json"}
    refused(svc.post(path, content=raw, headers=headers), (400, 422))


WRONG = [1, 1.5, True, "x", [], {}, None]
SEARCH_FIELDS: dict[str, list[Any]] = {
    "text": [1, True, [], {}],
    "image_id": [1, False, ["a"], {}],
    "image": [1, [], {}],
    "limit": ["5", 1.5, True, [], 0, -1, 201, 10**12],
    "offset": ["0", 0.5, False, -1, 10_001, 10**12],
    "weights": ["x", [], 1, {"text": "1"}, {"text": -1}, {"video": 1}],
    "negative": [1, [1], {"texts": "x"}, {"ids": [1]}],
    "filter": ["x", [], {"tags": "x"}, {"modality": "video"}, {"metadata": {"bad key!": 1}}],
    "score_threshold": ["0.5", [], 2, -2],
    "collapse_duplicates": ["yes", 1, None],
    "with_vectors": ["no", 0],
    "bogus": [1],
}


@pytest.mark.parametrize(
    ("field", "value"),
    [(f, v) for f, values in SEARCH_FIELDS.items() for v in values],
)
def test_wrong_types_in_search(svc: TestClient, refused: Check, field: str, value: Any) -> None:
    body = {"text": "a cat", field: value} if field != "text" else {field: value}
    refused(svc.post("/v1/search", json=body), 422)


@pytest.mark.parametrize(
    "body",
    [
        {"items": "a"},
        {"items": [1]},
        {"items": [{"text": 1}]},
        {"items": [{"text": "a", "tags": "a"}]},
        {"items": [{"text": "a", "tags": [1]}]},
        {"items": [{"text": "a", "tags": [""]}]},
        {"items": [{"text": "a", "metadata": []}]},
        {"items": [{"text": "a", "metadata": {"k": [1]}}]},
        {"items": [{"text": "a", "metadata": {"bad key": 1}}]},
        {"items": [{"text": "a", "bogus": 1}]},
        {"items": [{"text": "a"}], "bogus": 1},
        {"items": [{"text": "a"}] * 1001},
    ],
)
def test_wrong_types_in_text_items(svc: TestClient, refused: Check, body: Any) -> None:
    refused(svc.post("/v1/items", json=body), 422)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"source": "roots"},
        {"source": {}},
        {"source": {"path": 1}},
        {"source": {"path": ""}},
        {"source": {"path": ["a"]}},
        {"source": {"path": "a", "bogus": 1}},
        {"source": {"path": "a"}, "tags": "x"},
        {"source": {"path": "a"}, "tags": [1]},
        {"source": {"path": "a"}, "metadata": "x"},
        {"source": {"path": "a"}, "metadata": {"k": {"nested": 1}}},
        {"source": {"path": "a"}, "bogus": True},
    ],
)
def test_wrong_types_in_jobs(svc: TestClient, refused: Check, body: Any) -> None:
    refused(svc.post("/v1/jobs", json=body), 422)


@pytest.mark.parametrize(
    "query",
    [
        "limit=-1",
        "limit=0",
        "limit=201",
        "limit=99999999999999999999",
        "offset=-5",
        "offset=10001",
        "limit=abc",
        "modality=video",
    ],
)
def test_bad_paging_on_similar(svc: TestClient, refused: Check, cat_id: str, query: str) -> None:
    refused(svc.get(f"/v1/items/{cat_id}/similar?{query}"), 422)


@pytest.mark.parametrize("query", ["limit=-1", "limit=0", "limit=501", "limit=1e3", "limit="])
def test_bad_paging_on_jobs(svc: TestClient, refused: Check, query: str) -> None:
    refused(svc.get(f"/v1/jobs?{query}"), 422)


@pytest.mark.parametrize("item_id", [UNKNOWN, "nope", "..%2F..%2Fetc%2Fpasswd", "x" * 300])
@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/thumbnail"), ("GET", "/original"), ("GET", "/similar"), ("DELETE", "")],
)
def test_unknown_item_ids(
    svc: TestClient, refused: Check, item_id: str, method: str, suffix: str
) -> None:
    refused(svc.request(method, f"/v1/items/{item_id}{suffix}"), 404)


@pytest.mark.parametrize("job_id", ["0" * 32, "nope"])
@pytest.mark.parametrize(
    ("method", "suffix"), [("GET", ""), ("POST", "/retry"), ("POST", "/cancel")]
)
def test_unknown_job_ids(
    svc: TestClient, refused: Check, job_id: str, method: str, suffix: str
) -> None:
    refused(svc.request(method, f"/v1/jobs/{job_id}{suffix}"), 404)


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


def test_bad_search_queries(svc: TestClient, refused: Check, cat_id: str) -> None:
    good_b64 = base64.b64encode(jpeg()).decode()
    cases: list[tuple[dict[str, Any], int]] = [
        ({}, 422),
        ({"text": ""}, 422),
        ({"text": "   "}, 422),
        ({"text": "x" * 100_000}, 422),
        ({"image_id": cat_id, "image": good_b64}, 422),
        ({"image_id": UNKNOWN}, 404),
        ({"image_id": "nope"}, 404),
        ({"image_id": ""}, 422),
        ({"image": "not base64!!"}, 422),
        ({"image": base64.b64encode(b"plain text, not an image").decode()}, 422),
        ({"image": base64.b64encode(png_bomb()).decode()}, 422),
        ({"image": ""}, 422),
        ({"text": "cat", "negative": {"ids": [UNKNOWN]}}, 404),
        ({"text": "cat", "filter": {"created_after": "yesterday"}}, 422),
    ]
    for body, status in cases:
        refused(svc.post("/v1/search", json=body), status)


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
