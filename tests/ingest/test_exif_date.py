from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from loupe.ingest.exif_date import (
    DATE_TIME,
    DATE_TIME_ORIGINAL,
    EXIF_IFD,
    OFFSET_TIME_ORIGINAL,
    parse_exif_date,
    taken_at,
)
from loupe.ingest.validate import inspect_image


def jpeg(tags: dict[int, str], sub: dict[int, str] | None = None) -> bytes:
    exif = Image.Exif()
    for key, value in tags.items():
        exif[key] = value
    if sub:
        ifd = exif.get_ifd(EXIF_IFD)
        ifd.update(sub)
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 60, 30)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def epoch(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


def test_the_original_date_wins_and_its_offset_is_honoured() -> None:
    data = jpeg(
        {DATE_TIME: "2021:01:01 00:00:00"},
        {DATE_TIME_ORIGINAL: "2019:06:01 14:30:00", OFFSET_TIME_ORIGINAL: "+02:00"},
    )
    assert taken_at(Image.open(io.BytesIO(data))) == epoch(2019, 6, 1, 12, 30)


def test_the_file_date_is_the_fallback_read_as_utc() -> None:
    data = jpeg({DATE_TIME: "2018:03:04 05:06:07"})
    assert taken_at(Image.open(io.BytesIO(data))) == epoch(2018, 3, 4, 5, 6, 7)


def test_no_exif_no_date() -> None:
    assert taken_at(Image.new("RGB", (4, 4))) is None


@pytest.mark.parametrize("raw", ["", "0000:00:00 00:00:00", "garbage", "1700:01:01 00:00:00"])
def test_impossible_dates_count_as_absent(raw: str) -> None:
    assert parse_exif_date(raw) is None
    assert parse_exif_date("2999:01:01 00:00:00") is None  # the future


def test_inspect_image_reports_the_capture_date() -> None:
    data = jpeg({}, {DATE_TIME_ORIGINAL: "2020:02:29 23:59:59"})
    info = inspect_image(data, filename="x.jpg", max_bytes=10**6, max_pixels=10**6)
    assert info.taken_at == epoch(2020, 2, 29, 23, 59, 59)
