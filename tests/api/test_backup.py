"""Backup while a bulk job runs, restore into a new data folder, same answers: every item
acknowledged before the backup comes back (the restored server finishes the job it copied) and
20 queries give the same top-10 as the original library."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from PIL import Image, ImageEnhance, ImageOps

from loupe.api.app import create_app
from loupe.api.cli import main
from loupe.api.settings import Settings
from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import AUTH, make_settings, wait_job

BULK = 200
QUERIES = [
    "a cat", "a dog", "a red car", "a rocket launch", "coffee cup", "old coins", "a flower",
    "an astronaut", "a motorcycle", "galaxies in space", "a temple", "a man with a camera",
    "a bright photo", "a dark photo", "something blue", "a green plant", "a face",
    "a vehicle", "an animal", "a building",
]  # fmt: skip


def _variants(sample_dir: Path, folder: Path, count: int) -> None:
    """Distinct 1600x1200 photos from the samples: mirrored, rotated, tinted, cropped."""
    folder.mkdir(parents=True)
    samples = sorted(sample_dir.glob("*.jpg"))
    for n in range(count):
        image = Image.open(samples[n % len(samples)]).convert("RGB")
        if n // len(samples) % 2:
            image = ImageOps.mirror(image)
        image = image.rotate(7 * (n % 5), expand=True)
        image = ImageEnhance.Color(image).enhance(0.4 + 0.15 * (n % 7))
        w, h = image.size
        image = image.crop((n % 9 * w // 40, 0, w, h - n % 4 * h // 30)).resize((1600, 1200))
        image.save(folder / f"v{n:03d}.jpg", quality=85)


def _top10(client: TestClient) -> list[list[str]]:
    answers = []
    for text in QUERIES:
        answer = client.post("/v1/search", json={"text": text, "limit": 10})
        assert answer.status_code == 200, answer.text
        answers.append([hit["id"] for hit in answer.json()["hits"]])
    return answers


def test_backup_during_bulk_ingest_restores_the_same_library(
    tmp_path: Path, encoders: EncoderPool, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roots = tmp_path / "roots"
    _variants(sample_dir, roots / "bulk", BULK)
    first = make_settings(tmp_path / "a", ingest_roots=[roots], backup_dir=tmp_path / "backups")
    with TestClient(create_app(first, encoders=encoders), headers=AUTH) as client:
        files = [
            ("files", (p.name, p.read_bytes(), "image/jpeg"))
            for p in sorted(sample_dir.glob("*.jpg"))
        ]
        upload = client.post("/v1/items", files=files).json()
        assert wait_job(client, upload["job_id"])["state"] == "succeeded"
        job = client.post("/v1/jobs", json={"source": {"path": "bulk"}}).json()
        deadline = time.monotonic() + 300
        while client.get(f"/v1/jobs/{job['id']}").json()["done"] == 0:
            assert time.monotonic() < deadline, "the bulk job never started"
            time.sleep(0.05)
        taken = client.post("/v1/admin/backup", json={"name": "during-bulk"})
        assert taken.status_code == 200, taken.text
        at_backup = client.get(f"/v1/jobs/{job['id']}").json()
        assert wait_job(client, job["id"], timeout_s=600)["state"] == "succeeded"
        expected = _top10(client)
        points = client.get("/v1/admin/collections").json()[0]["points"]
    distinct = {hashlib.sha256(p.read_bytes()).digest() for p in (roots / "bulk").iterdir()}
    samples = len(upload["items"])
    assert points == samples + len(distinct)  # identical variants fold into one item
    report = taken.json()
    assert report["blobs"] >= samples and report["databases"] == ["keys.sqlite3"]
    backup = tmp_path / "backups" / "during-bulk"
    copied = sqlite3.connect(backup / "jobs.sqlite3")
    done_in_copy = copied.execute(
        "SELECT COUNT(*) FROM units WHERE job_id = ? AND status = 'done'", (job["id"],)
    ).fetchone()[0]
    copied.close()
    assert 0 < done_in_copy < BULK, "the backup was not taken while the job ran"
    assert at_backup["done"] < BULK

    second_dir = tmp_path / "b"
    monkeypatch.setenv("LOUPE_DATA_DIR", str(second_dir))
    restored = CliRunner().invoke(main, ["restore", str(backup)])
    assert restored.exit_code == 0, restored.output
    again = CliRunner().invoke(main, ["restore", str(backup)])
    assert again.exit_code == 1 and "already holds a library" in again.output
    second: Settings = make_settings(second_dir, ingest_roots=[roots])
    with TestClient(create_app(second, encoders=encoders), headers=AUTH) as client:
        assert wait_job(client, job["id"], timeout_s=600)["state"] == "succeeded"
        assert client.get("/v1/admin/collections").json()[0]["points"] == points
        assert _top10(client) == expected
        for item in upload["items"]:
            assert client.get(f"/v1/items/{item['id']}/original").status_code == 200
