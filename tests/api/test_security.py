"""Security edges: the admin token, settings that refuse weak secrets, CORS, error bodies that
leak nothing, and content served only for existing items with honest types."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from loupe.api.app import create_app
from loupe.api.settings import Settings
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import ADMIN_TOKEN, make_settings, wait_job

ADMIN_ROUTES = [
    ("POST", "/v1/admin/reindex"),
    ("POST", "/v1/admin/rollback"),
    ("GET", "/v1/admin/collections"),
    ("DELETE", "/v1/admin/collections/anything"),
]
BAD_CREDENTIALS: list[tuple[dict[str, str], dict[str, str]]] = [
    ({}, {}),
    ({"Authorization": "Bearer wrong-token-0123456789"}, {}),
    ({"Authorization": f"Bearer {ADMIN_TOKEN}x"}, {}),
    ({"Authorization": f"Bearer {ADMIN_TOKEN[:-1]}"}, {}),
    ({"Authorization": "Bearer "}, {}),
    ({"Authorization": "Bearer"}, {}),
    ({"Authorization": ADMIN_TOKEN}, {}),
    ({"Authorization": f"Token {ADMIN_TOKEN}"}, {}),
    ({"Authorization": f"Basic {ADMIN_TOKEN}"}, {}),
    ({"X-Admin-Token": ADMIN_TOKEN}, {}),
    ({}, {"token": ADMIN_TOKEN}),
    ({}, {"access_token": ADMIN_TOKEN}),
]


def state(client: TestClient) -> tuple[list[str], str | None, int]:
    """Collections, the live alias and the number of jobs: what an admin call could change."""
    stores = client.app.state.ingest.stores  # type: ignore[attr-defined]
    names = sorted(c.name for c in stores.index.list_collections())
    return names, stores.index.resolve_alias("loupe"), len(stores.jobs.recent(limit=500))


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, encoders: EncoderPool) -> Iterator[TestClient]:
    """One app for the read-only checks (building an app takes seconds on 2 cores)."""
    settings = make_settings(tmp_path_factory.mktemp("sec") / "data")
    with TestClient(create_app(settings, encoders=encoders)) as client:
        yield client


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_admin_refuses_missing_or_wrong_tokens(shared: TestClient, method: str, path: str) -> None:
    before = state(shared)
    for headers, params in BAD_CREDENTIALS:
        response = shared.request(method, path, headers=headers, params=params, json={})
        assert response.status_code == 401, (headers, params, response.text)
        assert response.json()["error"]["type"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
    assert state(shared) == before


def test_admin_closed_to_everyone_without_a_configured_token(
    tmp_path: Path, encoders: EncoderPool
) -> None:
    settings = make_settings(tmp_path / "data", admin_token=None)
    with TestClient(create_app(settings, encoders=encoders)) as client:
        before = state(client)
        for method, path in ADMIN_ROUTES:
            for headers in (
                {},
                {"Authorization": f"Bearer {ADMIN_TOKEN}"},
                {"Authorization": "Bearer "},
            ):
                response = client.request(method, path, headers=headers, json={})
                assert response.status_code == 403, response.text
                assert response.json()["error"]["type"] == "forbidden"
        assert state(client) == before


def test_the_right_token_opens_admin_and_is_compared_in_constant_time(
    shared: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = shared
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    ok = client.get("/v1/admin/collections", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert ok.status_code == 200
    assert [c["live"] for c in ok.json()] == [True]
    wrong = client.get("/v1/admin/collections", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert calls == [(ADMIN_TOKEN.encode(), ADMIN_TOKEN.encode()), (b"nope", ADMIN_TOKEN.encode())]


@pytest.mark.parametrize(
    "token", ["changeme", "CHANGEME", "admin", "secret", "password", "token", "short-0123456"]
)
def test_prod_refuses_weak_admin_tokens(tmp_path: Path, token: str) -> None:
    with pytest.raises(ValidationError, match="weak"):
        Settings.model_validate({"env": "prod", "admin_token": token, "data_dir": tmp_path})
    dev = Settings.model_validate({"env": "dev", "admin_token": token, "data_dir": tmp_path})
    assert dev.admin_token is not None


def test_prod_accepts_a_strong_token_and_no_token(tmp_path: Path) -> None:
    strong = "k3J9-xq2Lr8Vw7Zp4Nt6"
    prod = Settings.model_validate({"env": "prod", "admin_token": strong, "data_dir": tmp_path})
    assert prod.admin_token is not None
    assert prod.admin_token.get_secret_value() == strong
    assert strong not in repr(prod)
    assert Settings.model_validate({"env": "prod", "data_dir": tmp_path}).admin_token is None


def test_cors_is_closed_by_default(shared: TestClient) -> None:
    client = shared
    origin = {"Origin": "https://evil.example"}
    assert "access-control-allow-origin" not in client.get("/healthz", headers=origin).headers
    preflight = client.options(
        "/v1/search", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_opens_for_a_configured_origin_only(tmp_path: Path, encoders: EncoderPool) -> None:
    settings = make_settings(tmp_path / "data", cors_origins=["https://app.example"])
    with TestClient(create_app(settings, encoders=encoders)) as client:
        allowed = {"Origin": "https://app.example"}
        response = client.get("/healthz", headers=allowed)
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        preflight = client.options(
            "/v1/search", headers={**allowed, "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        other = client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


@pytest.fixture
def items(client: TestClient, sample_dir: Path) -> dict[str, str]:
    """One photo and one text item: name → id."""
    photo = ("files", ("cat.jpg", (sample_dir / "cat.jpg").read_bytes(), "image/jpeg"))
    image = client.post("/v1/items", files=[photo]).json()
    text = client.post("/v1/items", json={"items": [{"text": "<script>alert(1)</script>"}]})
    for body in (image, text.json()):
        assert wait_job(client, body["job_id"])["state"] == "succeeded"
    return {"image": image["items"][0]["id"], "text": text.json()["items"][0]["id"]}


def test_content_only_for_existing_items_with_honest_types(
    client: TestClient, items: dict[str, str], sample_dir: Path
) -> None:
    image, text = items["image"], items["text"]
    thumb = client.get(f"/v1/items/{image}/thumbnail")
    assert (thumb.status_code, thumb.headers["content-type"]) == (200, "image/webp")
    assert thumb.content[:4] == b"RIFF"
    original = client.get(f"/v1/items/{image}/original")
    assert original.headers["content-type"] == "image/jpeg"
    assert original.content == (sample_dir / "cat.jpg").read_bytes()
    as_text = client.get(f"/v1/items/{text}/original")
    assert as_text.headers["content-type"] == "text/plain; charset=utf-8"
    assert as_text.text == "<script>alert(1)</script>"
    assert client.get(f"/v1/items/{text}/thumbnail").status_code == 404
    for response in (thumb, original, as_text):
        assert response.headers["x-content-type-options"] == "nosniff"


def leaks(body: str, data_dir: Path) -> list[str]:
    found = [s for s in ("Traceback", 'File "', "site-packages", str(data_dir)) if s in body]
    return found + re.findall(r"(?:/[\w.\-]+){2,}\.py", body)


def test_internal_errors_show_only_a_request_id(
    client: TestClient, items: dict[str, str], settings: Settings
) -> None:
    sha = client.get(f"/v1/items/{items['image']}").json()["sha256"]
    blob = settings.blob_dir / sha[:2] / sha[2:4] / sha
    blob.unlink()
    blob.mkdir()  # reading the blob now fails with an OSError naming its path
    for suffix in ("/original", "/thumbnail"):
        response = client.get(
            f"/v1/items/{items['image']}{suffix}", headers={"X-Request-ID": "r-1"}
        )
        assert response.status_code == 500
        assert response.json() == {
            "error": {"type": "internal", "message": "internal error (request id r-1)"}
        }
        assert response.headers["x-request-id"] == "r-1"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert leaks(response.text, settings.data_dir) == []


ErrorCall = Callable[[TestClient], Any]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.post("/v1/jobs", json={"source": {"path": "/etc/passwd"}}),
        lambda c: c.post("/v1/jobs", json={"source": {"path": "nowhere/at/all"}}),
        lambda c: c.post("/v1/items", files=[("files", ("x.jpg", b"\xff\xd8", "image/jpeg"))]),
        lambda c: c.post("/v1/search", content=b"{", headers={"content-type": "application/json"}),
        lambda c: c.get("/v1/items/../../etc/passwd"),
        lambda c: c.get("/static/..%2F..%2Fapp.py"),
        lambda c: c.put("/v1/search"),
    ],
)
def test_errors_leak_no_paths(shared: TestClient, call: ErrorCall) -> None:
    response = call(shared)
    assert 400 <= response.status_code < 500
    assert leaks(response.text, shared.app.state.settings.data_dir) == []  # type: ignore[attr-defined]
    assert "/etc/passwd" not in response.text


def test_nosniff_and_request_id_on_every_response(
    client: TestClient, items: dict[str, str]
) -> None:
    responses = [
        client.get("/"),
        client.get("/healthz"),
        client.get("/readyz"),
        client.get("/metrics"),
        client.get("/openapi.json"),
        client.get("/static/nothing.js"),
        client.get("/no/such/route"),
        client.put("/v1/search"),
        client.post("/v1/search", json={"text": "a cat"}),
        client.post("/v1/search", json={}),
        client.get(f"/v1/items/{items['image']}"),
        client.get("/v1/admin/collections"),
        client.get("/v1/jobs"),
    ]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff", response.url
        assert re.fullmatch(r"[0-9a-f]{16}", response.headers["x-request-id"]), response.url
