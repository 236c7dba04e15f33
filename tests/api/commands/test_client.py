"""``loupe ingest``, ``loupe jobs`` and ``loupe reindex`` as a user runs them: against the real
app on a real loopback port, closed by the admin token (which is also an admin key)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from loupe.api.cli import main
from loupe.api.client import LoupeClient
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import ADMIN_TOKEN, live_server, make_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, encoders: EncoderPool) -> Iterator[str]:
    settings = make_settings(tmp_path_factory.mktemp("client-cli"))
    with live_server(settings, encoders) as live:
        yield live


def loupe(*args: str, key: str = ADMIN_TOKEN) -> Result:
    """The command as a user with ``key`` in LOUPE_API_KEY runs it."""
    return CliRunner(env={"LOUPE_API_KEY": key}).invoke(main, list(args))


def photos(sample_dir: Path, folder: Path, *stems: str) -> Path:
    folder.mkdir(parents=True)
    for stem in stems:
        shutil.copy(sample_dir / f"{stem}.jpg", folder / f"{stem}.jpg")
    (folder / "notes.txt").write_text("not an image: ingest skips it")
    (folder / "broken.jpg").write_bytes(b"this is not a jpeg " * 20)
    return folder


def test_ingest_uploads_a_folder_and_waits(url: str, sample_dir: Path, tmp_path: Path) -> None:
    folder = photos(sample_dir, tmp_path / "trip", "cat", "rocket", "coffee")
    done = loupe("ingest", str(folder), "--tag", "trip", "--wait", "--url", url)
    assert done.exit_code == 0, done.output
    assert "queued 3, duplicates 0, refused 1" in done.output
    assert "broken.jpg" in done.output.replace("\n", "")  # named (rich folds long paths)
    with closing(LoupeClient(url, token=ADMIN_TOKEN)) as client:
        hits = client.call("POST", "/v1/search", json={"text": "a cat", "limit": 1})["hits"]
    assert hits[0]["filename"] == "cat.jpg" and hits[0]["tags"] == ["trip"]
    again = loupe("ingest", str(folder / "cat.jpg"), "--url", url)
    assert again.exit_code == 0, again.output
    assert "queued 0, duplicates 1, refused 0" in again.output


def test_ingest_refuses_nothing_to_send_and_a_closed_server(url: str, tmp_path: Path) -> None:
    empty = loupe("ingest", str(tmp_path), "--url", url)
    assert empty.exit_code == 2 and "no image files found" in empty.output
    (tmp_path / "a.jpg").write_bytes(b"x")
    anonymous = loupe("ingest", str(tmp_path / "a.jpg"), "--url", url, key="")
    assert anonymous.exit_code == 0, anonymous.output
    assert "HTTP 401" in anonymous.output and "refused 1" in anonymous.output


def test_jobs_lists_and_shows_one_with_its_errors(
    url: str, sample_dir: Path, tmp_path: Path
) -> None:
    folder = photos(sample_dir, tmp_path / "job", "flower")
    with closing(LoupeClient(url, token=ADMIN_TOKEN)) as client:
        body = client.upload_files([folder / "flower.jpg"])
        client.wait_job(body["job_id"], poll_s=0.05)
    listed = loupe("jobs", "--json", "--url", url)
    assert listed.exit_code == 0, listed.output
    assert body["job_id"] in {job["id"] for job in json.loads(listed.output)}
    one = loupe("jobs", body["job_id"], "--url", url)
    assert one.exit_code == 0, one.output
    assert body["job_id"][:8] in one.output and "succeeded" in one.output  # a table, ids cut
    missing = loupe("jobs", "no-such-job", "--url", url)
    assert missing.exit_code == 1 and "HTTP 404" in missing.output


def test_reindex_waits_for_the_swap_then_rolls_back(url: str) -> None:
    client = LoupeClient(url, token=ADMIN_TOKEN)
    try:
        _reindex_and_roll_back(url, client)
    finally:
        client.close()


def _reindex_and_roll_back(url: str, client: LoupeClient) -> None:

    def live() -> str:
        return str(
            next(c["name"] for c in client.call("GET", "/v1/admin/collections") if c["live"])
        )

    before = live()
    done = loupe("reindex", "--wait", "--url", url)
    assert done.exit_code == 0, done.output
    assert "done" in done.output
    after = live()
    assert after != before and after in " ".join(done.output.split())
    rolled = loupe("reindex", "--rollback", "--url", url)
    assert rolled.exit_code == 0, rolled.output
    said = " ".join(rolled.output.split())  # rich wraps long lines
    assert f"live collection is now {before} (was {after})" in said
    assert live() == before
    refused = loupe("reindex", "--url", url, key="wrong-token-123456")
    assert refused.exit_code == 1 and "HTTP 401" in refused.output
