"""Damaged state on disk, met by a real restarted app: a lost or 0-byte aliases.json, a lone
collection without its alias, old stamps that cannot say which collection was live, a truncated
job database."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from loupe.api.app import create_app
from loupe.api.settings import Settings
from loupe.search.encoders.pool import EncoderPool
from loupe.search.errors import Conflict
from tests.api.conftest import AUTH, make_settings, wait_job

QUERIES = ["a cat", "a dog", "a red car", "mountains", "food on a plate"]


def _top(client: TestClient) -> list[list[str]]:
    out = []
    for text in QUERIES:
        answer = client.post("/v1/search", json={"text": text, "limit": 10})
        assert answer.status_code == 200, answer.text
        out.append([h["id"] for h in answer.json()["hits"]])
    return out


def _fill(client: TestClient, sample_dir: Path) -> dict[str, Any]:
    files = [
        ("files", (p.name, p.read_bytes(), "image/jpeg")) for p in sorted(sample_dir.glob("*.jpg"))
    ]
    body: dict[str, Any] = client.post("/v1/items", files=files).json()
    assert wait_job(client, body["job_id"])["state"] == "succeeded"
    return body


def _app(settings: Settings, encoders: EncoderPool) -> TestClient:
    return TestClient(create_app(settings, encoders=encoders), headers=AUTH)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.mark.parametrize("damage", ["deleted", "zero bytes"])
def test_lost_aliases_keep_the_library(
    settings: Settings,
    encoders: EncoderPool,
    sample_dir: Path,
    damage: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with _app(settings, encoders) as client:
        body = _fill(client, sample_dir)
        before = _top(client)
    aliases = settings.index_dir / "aliases.json"
    if damage == "deleted":
        aliases.unlink()
    else:
        aliases.write_bytes(b"")
    with (
        caplog.at_level(logging.WARNING),
        _app(settings, encoders) as client,
    ):
        assert client.get("/readyz").status_code == 200
        assert _top(client) == before
        item = body["items"][0]["id"]
        assert client.get(f"/v1/items/{item}").status_code == 200
    assert "rebuilt from the collections' stamps" in caplog.text
    assert json.loads(aliases.read_text())["loupe"]


def test_old_stamps_adopt_a_lone_collection_and_refuse_two(
    settings: Settings, encoders: EncoderPool, sample_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with _app(settings, encoders) as client:
        _fill(client, sample_dir)
        before = _top(client)
    collections = settings.index_dir / "collections"
    (live,) = [p.name for p in collections.iterdir()]
    for meta in collections.glob("*/meta.json"):  # stamps as written before claims existed
        raw = json.loads(meta.read_text())
        raw.pop("aliases")
        meta.write_text(json.dumps(raw))
    (settings.index_dir / "aliases.json").unlink()
    with (
        caplog.at_level(logging.WARNING),
        _app(settings, encoders) as client,
    ):
        assert _top(client) == before
    assert f"{live} (" in caplog.text and "the only one, is live again" in caplog.text

    (settings.index_dir / "aliases.json").unlink()
    for meta in collections.glob("*/meta.json"):
        raw = json.loads(meta.read_text())
        raw.pop("aliases")
        meta.write_text(json.dumps(raw))
    twin = collections / "bundled-copy"
    shutil.copytree(collections / live, twin)  # its stamp and its layers
    with pytest.raises(Conflict) as caught, TestClient(create_app(settings, encoders=encoders)):
        pass
    message = caught.value.message
    assert "index/aliases.json" in message and live in message and "bundled-copy" in message
    assert '{"loupe": "<name>"}' in message


def test_truncated_job_database_is_set_aside_and_the_app_starts(
    settings: Settings, encoders: EncoderPool, sample_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with _app(settings, encoders) as client:
        body = _fill(client, sample_dir)
        before = _top(client)
    db = settings.jobs_db
    with db.open("r+b") as fh:
        fh.truncate(db.stat().st_size // 2)
    with (
        caplog.at_level(logging.WARNING),
        _app(settings, encoders) as client,
    ):
        assert client.get("/readyz").status_code == 200
        gone = client.get(f"/v1/jobs/{body['job_id']}")
        assert gone.status_code == 404 and gone.json()["error"]["type"] == "not_found"
        assert _top(client) == before  # the items themselves live in the index
    assert "damaged" in caplog.text and "set aside" in caplog.text
    assert list(db.parent.glob("jobs.sqlite3.damaged-*"))
