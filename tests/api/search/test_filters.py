"""Filters: tags, modality, MIME type, metadata values and ranges, upload time and the EXIF date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.api.conftest import search, wait_job
from tests.api.search.conftest import BATCHES, stems

pytestmark = pytest.mark.slow


# -- filters -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"tags": ["vehicle"]}, {"rocket", "motorcycle"}),
        ({"tags": ["home", "texture"]}, {"cat", "coffee", "grass"}),
        ({"modality": "text"}, {"A recipe for tomato soup", "Fixing a bicycle"}),
        ({"mime": ["image/png"]}, {"grass"}),
        ({"metadata": {"camera": "gr"}}, {"rocket", "motorcycle"}),
        ({"metadata": {"year": 2019}}, {"cat", "coffee"}),
        ({"metadata": {"year": {"gte": 2020, "lte": 2022}}}, {"rocket", "motorcycle"}),
        (
            {"metadata": {"year": {"gte": 2022}}},
            {"astronaut", "galaxies", "cameraman"} | {"coins", "temple", "flower"},
        ),
    ],
)
def test_filters(api: TestClient, flt: dict[str, Any], expected: set[str]) -> None:
    result = search(api, text="a photo", limit=50, filter=flt)
    assert set(stems(result)) == expected


def test_created_at_range(api: TestClient) -> None:
    everything = search(api, text="a photo", limit=50, collapse_duplicates=False)
    when = {
        stem: h["created_at"] for stem, h in zip(stems(everything), everything["hits"], strict=True)
    }
    assert when["cat"] < when["rocket"] < when["cat_q50"]
    # Bounds 1 ms outside the stored stamps (batches are ~100 ms apart): the engine parses
    # floats itself, so a bound equal to a stored stamp can land one ULP on either side.
    between = {"created_after": when["rocket"] - 1e-3, "created_before": when["flower"] + 1e-3}
    result = search(api, text="a photo", limit=50, filter=between)
    assert set(stems(result)) == set(BATCHES[1][0]) | set(BATCHES[2][0])


def test_taken_at_from_exif_else_upload_time_and_its_date_filter(
    client: TestClient, tmp_path: Path
) -> None:
    from loupe.ingest.exif_date import DATE_TIME_ORIGINAL
    from tests.ingest.test_exif_date import jpeg

    (tmp_path / "old.jpg").write_bytes(jpeg({}, {DATE_TIME_ORIGINAL: "2019:06:01 14:30:00"}))
    Image.new("RGB", (40, 30), (10, 90, 200)).save(tmp_path / "new.jpg", "JPEG")
    files = [
        ("files", (n, (tmp_path / n).read_bytes(), "image/jpeg")) for n in ("old.jpg", "new.jpg")
    ]
    wait_job(client, client.post("/v1/items", files=files).json()["job_id"])
    everything = search(client, text="a photo", limit=10)["hits"]
    dates = {h["filename"]: (h["taken_at"], h["created_at"]) for h in everything}
    assert dates["old.jpg"][0] == 1559399400.0  # 2019-06-01T14:30:00Z
    assert dates["new.jpg"][0] == dates["new.jpg"][1], "no EXIF date: the upload time"
    before = search(client, text="a photo", filter={"taken_before": "2020-01-01T00:00:00Z"})
    assert [h["filename"] for h in before["hits"]] == ["old.jpg"]
    after = search(client, text="a photo", filter={"taken_after": "2020-01-01"})
    assert [h["filename"] for h in after["hits"]] == ["new.jpg"]
