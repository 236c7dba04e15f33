"""Bad input never hurts the service: every case answers a 4xx ``{"error": {"type",
"message"}}``, the service stays healthy and searchable, and no item is stored. The shared app
(``svc``, one for the package) and the ``refused`` check; bad files are in ``test_files``, bad
requests in ``test_requests``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from loupe.api.app import create_app
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import AUTH, make_settings, wait_job

UNKNOWN = "00000000-0000-4000-8000-000000000000"
Check = Callable[..., dict[str, Any]]


@pytest.fixture(scope="package")
def svc(
    tmp_path_factory: pytest.TempPathFactory, encoders: EncoderPool, sample_dir: Path
) -> Iterator[TestClient]:
    """One app for the package's tests, holding a cat photo and a text."""
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


@pytest.fixture(scope="package")
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
