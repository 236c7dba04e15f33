"""``loupe search`` against a live server (uvicorn in a thread) holding the sample gallery."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from click.testing import CliRunner

from loupe.api.app import create_app
from loupe.api.cli import main
from loupe.api.client import LoupeClient
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import make_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live_url(
    tmp_path_factory: pytest.TempPathFactory, sample_dir: Path, encoders: EncoderPool
) -> Iterator[str]:
    settings = make_settings(tmp_path_factory.mktemp("search-cli"), admin_token=None)  # open
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, encoders=encoders), log_level="warning")
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    client = LoupeClient(url)
    body = client.upload_files(sorted(sample_dir.glob("*.jpg")), tags=["sample"])
    assert client.wait_job(body["job_id"], poll_s=0.05)["state"] == "succeeded"
    client.close()
    yield url
    server.should_exit = True
    thread.join(timeout=30)
    sock.close()


def test_search_prints_a_ranked_table(live_url: str) -> None:
    result = CliRunner().invoke(main, ["search", "a cat", "--limit", "3", "--url", live_url])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "cat.jpg" in line or ".jpg" in line]
    assert len(rows) == 3
    assert "cat.jpg" in rows[0]
    assert "no good match" not in result.output


def test_search_json_and_a_photo_query(live_url: str, sample_dir: Path) -> None:
    args = ["search", "--image", str(sample_dir / "rocket.jpg"), "--json", "--url", live_url]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["hits"][0]["filename"] == "rocket.jpg"
    assert body["no_good_match"] is False


def test_search_flags_nonsense_and_reports_errors(live_url: str) -> None:
    nonsense = CliRunner().invoke(main, ["search", "qwzx flurb", "--url", live_url])
    assert nonsense.exit_code == 0
    assert "no good match" in nonsense.output
    empty = CliRunner().invoke(main, ["search", "   ", "--url", live_url])
    assert empty.exit_code != 0
    assert "HTTP 422" in empty.output


def test_search_filters_on_what_the_enrichers_saw(live_url: str) -> None:
    args = ["search", "a photo", "--people-min", "1", "--json", "--url", live_url]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)["hits"]
    assert "astronaut.jpg" in [h["filename"] for h in hits]
    assert all("person" in h["alt"]["en"] or "people" in h["alt"]["en"] for h in hits)
    none = CliRunner().invoke(
        main, ["search", "a photo", "--text-contains", "zqx", "--json", "--url", live_url]
    )
    assert none.exit_code == 0, none.output
    assert json.loads(none.output)["hits"] == []
    bad = CliRunner().invoke(main, ["search", "a photo", "--object", "unicorn", "--url", live_url])
    assert bad.exit_code != 0 and "unknown object" in bad.output


def test_search_without_a_query_browses_by_date_taken(live_url: str) -> None:
    newest = CliRunner().invoke(main, ["search", "--json", "--url", live_url])
    assert newest.exit_code == 0, newest.output
    body = json.loads(newest.output)
    dates = [h["taken_at"] for h in body["hits"]]
    assert body["total"] == len(dates) >= 10 and dates == sorted(dates, reverse=True)
    args = ["search", "--oldest-first", "--limit", "1", "--url", live_url]
    oldest = CliRunner().invoke(main, args)
    assert oldest.exit_code == 0, oldest.output
    assert "in the library" in oldest.output
    assert body["hits"][-1]["filename"] in oldest.output
