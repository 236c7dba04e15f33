"""Helpers for the page's browser tests (Debian's headless Chromium through Playwright, against
a real uvicorn server): start a server, watch a page for errors, wait for states, screenshots."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Playwright

from loupe.api.app import create_app
from loupe.api.settings import Settings
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import ADMIN_TOKEN, AUTH, make_settings

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
REFUSAL_ECHO = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")
# Chromium's console echo of a request the server never answered (the server is down on purpose).
NETWORK_ECHO = re.compile(r"Failed to load resource: net::ERR_")
FINAL = ("succeeded", "partial", "failed", "cancelled")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_job(http: httpx.Client, job_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, object] = http.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in FINAL:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


@contextmanager
def serve(settings: Settings, encoders: EncoderPool, port: int) -> Iterator[str]:
    """A real server (uvicorn in a thread) on ``port`` until the block ends; yields its URL."""
    config = uvicorn.Config(
        create_app(settings, encoders=encoders), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def upload(url: str, paths: list[Path], *, tags: str) -> None:
    with httpx.Client(base_url=url, timeout=60, headers=AUTH) as http:
        files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in paths]
        answer = http.post("/v1/items", files=files, data={"tags": tags}).json()
        wait_job(http, answer["job_id"])


def launch(playwright: Playwright) -> Browser:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


@dataclass(frozen=True)
class Site:
    url: str
    roots: Path  # the folder bulk jobs may read


@contextmanager
def gallery_site(data_dir: Path, encoders: EncoderPool, sample_dir: Path) -> Iterator[Site]:
    """A real server on a free port over a new library in ``data_dir``, with the sample gallery
    uploaded (tagged "sample"), until the block ends."""
    settings = make_settings(data_dir)
    with serve(settings, encoders, free_port()) as url:
        upload(url, sorted(sample_dir.glob("*.jpg")), tags="sample")
        yield Site(url, settings.ingest_roots[0])


@dataclass
class Watch:
    """Console errors, page errors and failed requests seen by one page."""

    problems: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # 4xx answers, checked by each test
    offline_ok: bool = False  # the test stops the server: unanswered requests are expected

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        # Chromium echoes every 4xx answer on the console; those are judged as refusals.
        if message.type != "error" or REFUSAL_ECHO.match(message.text):
            return
        if self.offline_ok and NETWORK_ECHO.match(message.text):
            return
        self.problems.append(message.text)

    def _failed(self, request: object) -> None:
        failure = str(getattr(request, "failure", ""))
        if "ERR_ABORTED" in failure:
            return  # a request the page cancelled itself (a newer query superseded it)
        if self.offline_ok and "ERR_CONNECTION_REFUSED" in failure:
            return
        self.problems.append(f"failed: {getattr(request, 'url', '')} {failure}")

    def _response(self, response: object) -> None:
        status, url = getattr(response, "status", 0), getattr(response, "url", "")
        if 400 <= status < 500:
            self.refusals.append(f"{status} {url}")
        elif status >= 500:
            self.problems.append(f"{status} {url}")


def open_page(
    browser: Browser,
    url: str,
    watch: Watch,
    *,
    width: int = 1280,
    height: int = 860,
    dark: bool = False,
    key: str | None = ADMIN_TOKEN,
    on_dialog: Callable[[Dialog], None] | None = None,
) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": height}, color_scheme="dark" if dark else "light"
    )
    if key is not None:  # the server is closed (it has an admin token): the tab holds a key
        context.add_init_script(
            f"if (!sessionStorage.getItem('loupe.adminToken')) "
            f"sessionStorage.setItem('loupe.adminToken', {key!r})"
        )
    page = context.new_page()
    watch.attach(page)
    if on_dialog is not None:  # before the page loads: it may ask at once
        page.on("dialog", on_dialog)
    page.goto(url)
    return page


def shot(page: Page, name: str, *, idle: bool = True) -> None:
    """Screenshot ``name``; first wait for the network to settle unless ``idle`` is False
    (a request is being held on purpose)."""
    if idle:
        page.wait_for_load_state("networkidle")
    page.evaluate(
        "document.getAnimations().forEach(a => a.effect?.getTiming().iterations === Infinity"
        " ? a.pause() : a.finish())"
    )
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def first_name(page: Page) -> str:
    page.wait_for_selector("#results li")
    return str(page.get_attribute("#results li >> nth=0", "data-filename"))


def wait_first(page: Page, filename: str) -> None:
    """Wait until the first result of the current query (not older results still shown
    dimmed, not one in flight) is ``filename``."""
    page.wait_for_function(
        """name => {
            const results = document.getElementById('results');
            return !results.classList.contains('stale') && !results.hasAttribute('aria-busy')
                && results.querySelector('li')?.dataset.filename === name;
        }""",
        arg=filename,
    )


def wait_text(page: Page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([sel, text]) => document.querySelector(sel)?.innerText.includes(text)",
        arg=[selector, text],
    )


def search_for(page: Page, text: str, expect_first: str) -> None:
    page.fill("#q", text)
    page.press("#q", "Enter")
    wait_first(page, expect_first)
