"""Bad requests never hurt the service: malformed or wrongly typed JSON bodies, bad paging,
unknown item and job ids, and bad search queries."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.bad_input.conftest import UNKNOWN, Check
from tests.ingest.test_validate import jpeg, png_bomb


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
