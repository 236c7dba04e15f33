"""When a photo was taken, from its EXIF: ``DateTimeOriginal`` (else ``DateTimeDigitized``,
else the IFD0 ``DateTime``), with ``OffsetTimeOriginal`` when the camera wrote one.

EXIF dates carry no time zone unless an offset tag says so; a date without one is read as UTC
(so the order of one camera's photos is right, and the date shown is the camera's clock).
Dates before 1826 (the first photograph) or more than a day in the future, and unparseable
dates, count as absent."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

from PIL import Image

EXIF_IFD = 0x8769
DATE_TIME = 306  # IFD0
DATE_TIME_ORIGINAL = 36867
DATE_TIME_DIGITIZED = 36868
OFFSET_TIME_ORIGINAL = 36881
EARLIEST = datetime(1826, 1, 1, tzinfo=UTC).timestamp()


def _offset(raw: object) -> timezone:
    text = str(raw or "").strip()
    if len(text) == 6 and text[0] in "+-" and text[3] == ":":
        try:
            minutes = int(text[1:3]) * 60 + int(text[4:6])
        except ValueError:
            return UTC
        return timezone(timedelta(minutes=minutes if text[0] == "+" else -minutes))
    return UTC


def parse_exif_date(raw: object, offset: object = None) -> float | None:
    """Epoch seconds of an EXIF ``YYYY:MM:DD HH:MM:SS`` string, or None."""
    text = str(raw or "").strip().rstrip("\x00")
    try:
        parsed = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    stamp = parsed.replace(tzinfo=_offset(offset)).timestamp()
    if stamp < EARLIEST or stamp > time.time() + 86_400:
        return None
    return stamp


def taken_at(img: Image.Image) -> float | None:
    """When ``img`` was taken (epoch seconds) per its EXIF, or None."""
    try:
        exif = img.getexif()
        sub = exif.get_ifd(EXIF_IFD)
    except (OSError, ValueError, TypeError, SyntaxError):
        return None
    for raw in (sub.get(DATE_TIME_ORIGINAL), sub.get(DATE_TIME_DIGITIZED), exif.get(DATE_TIME)):
        stamp = parse_exif_date(raw, sub.get(OFFSET_TIME_ORIGINAL))
        if stamp is not None:
            return stamp
    return None
