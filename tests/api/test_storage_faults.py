"""The API on a real, small tmpfs: disk watermarks (507 for new writes, /readyz storage state,
searches unharmed, writes back once space frees), a real ENOSPC and a read-only blob folder
answered 507/503 (never a bare 500), and a start on a full disk refused in one sentence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from loupe.api.app import create_app
from loupe.api.settings import Settings
from loupe.search.encoders.pool import EncoderPool
from loupe.search.errors import StorageFull
from tests.api.conftest import AUTH, make_settings, wait_job
from tests.storage_fs import MB, fill, free_bytes, read_only, tmpfs

FLOOD, LOW = 150 * MB, 200 * MB


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk", 512) as folder:
        yield folder


def _settings(disk: Path, **extra: Any) -> Settings:
    values = {"disk_low_free": "200MB", "disk_flood_free": "150MB", "disk_check_interval_s": 0}
    return make_settings(disk / "data", **{**values, **extra})


def _photo(sample_dir: Path, n: int = 0) -> list[tuple[str, tuple[str, bytes, str]]]:
    path = sorted(sample_dir.glob("*.jpg"))[n]
    return [("files", (path.name, path.read_bytes(), "image/jpeg"))]


def _gauges(text: str) -> dict[str, float]:
    lines = (line.split() for line in text.splitlines() if line.startswith("loupe_storage_"))
    return {name: float(value) for name, value in lines}


def _ready(client: TestClient) -> tuple[int, str]:
    answer = client.get("/readyz")
    return answer.status_code, answer.json()["checks"]["storage"]


def test_watermarks_refuse_writes_keep_search_and_recover(
    disk: Path, encoders: EncoderPool, sample_dir: Path
) -> None:
    with TestClient(create_app(_settings(disk), encoders=encoders), headers=AUTH) as client:
        assert _ready(client) == (200, "ok")
        first = client.post("/v1/items", files=_photo(sample_dir, 0)).json()
        assert wait_job(client, first["job_id"])["state"] == "succeeded"

        ballast = fill(disk, leave=(FLOOD + LOW) // 2)
        assert _ready(client) == (200, "low")  # a warning, still ready and writable
        second = client.post("/v1/items", files=_photo(sample_dir, 1))
        assert second.status_code == 202, second.text
        assert wait_job(client, second.json()["job_id"])["state"] == "succeeded"

        fill(disk, leave=FLOOD - 20 * MB)
        assert _ready(client) == (503, "full")
        gauges = _gauges(client.get("/metrics").text)
        assert gauges["loupe_storage_reserve_bytes"] == FLOOD
        assert FLOOD - 30 * MB < gauges["loupe_storage_free_bytes"] < FLOOD
        for answer in (
            client.post("/v1/items", files=_photo(sample_dir, 2)),
            client.post("/v1/items", json={"items": [{"text": "a note"}]}),
            client.post("/v1/jobs", json={"source": {"path": "."}}),
        ):
            assert answer.status_code == 507, answer.text
            assert answer.json()["error"]["type"] == "storage_full"
        found = client.post("/v1/search", json={"text": "a photo", "limit": 5})
        assert found.status_code == 200 and len(found.json()["hits"]) == 2
        assert client.get(f"/v1/items/{first['items'][0]['id']}/thumbnail").status_code == 200

        ballast.unlink()  # space frees: writes resume without a restart
        assert _ready(client) == (200, "ok")
        third = client.post("/v1/items", files=_photo(sample_dir, 2))
        assert third.status_code == 202, third.text
        assert wait_job(client, third.json()["job_id"])["state"] == "succeeded"


def test_real_enospc_and_read_only_blobs_are_not_500(
    disk: Path, encoders: EncoderPool, sample_dir: Path
) -> None:
    # No reserve at all, and the blob folder on its own tiny disk: the blob write itself
    # meets a full disk while the index's disk has room.
    settings = _settings(disk, disk_low_free="0B", disk_flood_free="0B")
    blobs = settings.blob_dir
    with (
        tmpfs(blobs, 8),
        TestClient(create_app(settings, encoders=encoders), headers=AUTH) as client,
    ):
        ballast = fill(blobs, leave=0)
        answer = client.post("/v1/items", files=_photo(sample_dir, 3))
        assert answer.status_code == 507, answer.text
        error = answer.json()["error"]
        assert error["type"] == "storage_full" and '"blobs"' in error["message"]
        ballast.unlink()
        read_only(blobs, on=True)
        assert _ready(client) == (503, "read_only")
        answer = client.post("/v1/items", files=_photo(sample_dir, 4))
        assert answer.status_code == 503, answer.text
        error = answer.json()["error"]
        assert error["type"] == "storage_unavailable" and '"blobs"' in error["message"]
        assert "read-only" in error["message"] and str(disk) not in error["message"]
        assert client.post("/v1/search", json={"text": "a cat"}).status_code == 200
        read_only(blobs, on=False)
        assert _ready(client) == (200, "ok")


def test_start_on_a_nearly_full_disk_says_what_it_needs(
    disk: Path, encoders: EncoderPool, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(disk)
    fill(disk, leave=FLOOD // 2)
    with pytest.raises(StorageFull) as caught, TestClient(create_app(settings, encoders=encoders)):
        pass
    message = caught.value.message
    assert message.startswith("cannot start:") and str(settings.data_dir) in message
    assert "needs at least 150 MB" in message and "LOUPE_DISK_FLOOD_FREE" in message
    assert message in caplog.text
    assert free_bytes(disk) > 0 and not (settings.index_dir / "collections").exists()
