"""API fixtures: the real app (bundled encoder with real weights, embedded Qdrant in a temp
folder, in-process runner), driven through Starlette's TestClient (lifespan included)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from loupe.api.app import create_app
from loupe.api.settings import Settings
from loupe.search.encoders.pool import EncoderPool

if TYPE_CHECKING:
    from tests.api.page_kit import Site, Watch

ADMIN_TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}  # the admin token is a key: it closes the server


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "ingest_roots": [data_dir / "roots"],
        "admin_token": ADMIN_TOKEN,
        "model": "bundled",
        "device": "cpu",
        "ingest_prewarm": False,  # most tests never ingest: no idle children per app
    }
    values.update(overrides)
    (data_dir / "roots").mkdir(parents=True, exist_ok=True)
    return Settings.model_validate(values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def client(settings: Settings, encoders: EncoderPool) -> Iterator[TestClient]:
    with TestClient(create_app(settings, encoders=encoders), headers=AUTH) as test_client:
        yield test_client


def wait_job(client: TestClient, job_id: str, timeout_s: float = 120.0) -> dict[str, Any]:
    """Poll a job until it ends (a bounded wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "partial", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


@pytest.fixture
def upload(client: TestClient) -> Callable[..., dict[str, Any]]:
    """Upload files (paths) and wait for their job; returns the upload answer."""

    def _upload(*paths: Path, tags: str | None = None) -> dict[str, Any]:
        files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in paths]
        data = {"tags": tags} if tags else {}
        response = client.post("/v1/items", files=files, data=data)
        assert response.status_code == 202, response.text
        body: dict[str, Any] = response.json()
        if body["job_id"]:
            assert wait_job(client, body["job_id"])["state"] == "succeeded"
        return body

    return _upload


@pytest.fixture
def gallery(
    client: TestClient, sample_dir: Path, upload: Callable[..., dict[str, Any]]
) -> dict[str, str]:
    """The sample gallery uploaded; maps file stem → item id."""
    paths = sorted(sample_dir.glob("*.jpg"))
    body = upload(*paths, tags="sample")
    return {Path(item["filename"]).stem: item["id"] for item in body["items"]}


def search(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/search", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def top_stems(result: dict[str, Any], n: int = 1) -> list[str]:
    return [Path(h["filename"]).stem for h in result["hits"][:n] if h.get("filename")]


@contextmanager
def live_server(settings: Settings, encoders: EncoderPool) -> Iterator[str]:
    """The real app served over real HTTP (uvicorn in a thread, a free loopback port)."""
    with serve(create_app(settings, encoders=encoders)) as url:
        yield url


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """``app`` served over real HTTP (uvicorn in a thread, a free loopback port): its URL."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, one per page-test module (the page tests' kit is imported
    here, not at the top: it imports this conftest)."""
    from playwright.sync_api import sync_playwright

    from tests.api.page_kit import CHROMIUM, launch

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        yield launch(playwright)


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, encoders: EncoderPool, sample_dir: Path
) -> Iterator[Site]:
    """A real server on a free port, with the sample gallery uploaded (tagged "sample"), one per
    page-test module (a module that deletes photos overrides it with a fresh one per test)."""
    from tests.api.page_kit import gallery_site

    with gallery_site(tmp_path_factory.mktemp("page") / "data", encoders, sample_dir) as site:
        yield site


@pytest.fixture
def watch() -> Watch:
    from tests.api.page_kit import Watch

    return Watch()


@pytest.fixture
def base_url(site: Site) -> str:
    return site.url


@pytest.fixture
def page(
    request: pytest.FixtureRequest, browser: Browser, base_url: str, watch: Watch
) -> Iterator[Page]:
    """The page open on ``site``; no console errors, page errors or failed requests by its end,
    and in a module marked ``no_refusals`` no 4xx answer either."""
    from tests.api.page_kit import open_page

    page = open_page(browser, base_url + "/", watch)
    yield page
    page.context.close()
    assert watch.problems == []
    if request.node.get_closest_marker("no_refusals") is not None:
        assert watch.refusals == []
