from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from loupe.ingest.validate import clean_text, decode_image, inspect_image
from loupe.search.errors import InvalidInput, PayloadTooLarge

LIMITS = {"max_bytes": 5_000_000, "max_pixels": 40_000_000}


def jpeg(size: tuple[int, int] = (64, 48), color: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="JPEG")
    return buf.getvalue()


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose header declares width × height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * (width * 3)
    body = zlib.compress(row * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def test_accepts_a_real_jpeg() -> None:
    info = inspect_image(jpeg(), filename="a.jpg", content_type="image/jpeg", **LIMITS)
    assert (info.mime, info.width, info.height) == ("image/jpeg", 64, 48)


@pytest.mark.parametrize(
    ("data", "name", "ctype", "fragment"),
    [
        (b"", "a.jpg", None, "empty"),
        (jpeg()[:200], "a.jpg", None, "truncated"),
        (png_bomb(), "bomb.png", "image/png", "over the limit"),
        (jpeg(), "photo.png", None, "says PNG"),
        (jpeg(), "photo.jpg", "image/png", "says PNG"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "x.svg", None, "not a supported"),
        (b"<html><body>hi</body></html>", "x.jpg", "text/html", "not a supported image"),
    ],
)
def test_refusals(data: bytes, name: str, ctype: str | None, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        inspect_image(data, filename=name, content_type=ctype, **LIMITS)


def test_size_limit() -> None:
    with pytest.raises(PayloadTooLarge):
        inspect_image(jpeg((400, 400)), max_bytes=1024, max_pixels=10**8)


def test_exif_orientation_is_applied() -> None:
    img = Image.new("RGB", (60, 30), "blue")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    assert decode_image(buf.getvalue()).size == (30, 60)


def test_transparent_png_becomes_rgb_on_white() -> None:
    buf = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(buf, format="PNG")
    out = decode_image(buf.getvalue())
    assert out.mode == "RGB" and out.getpixel((0, 0)) == (255, 255, 255)


def test_texts() -> None:
    assert clean_text("  a\x00 cat \n", max_chars=100) == "a cat"
    with pytest.raises(InvalidInput, match="UTF-8"):
        clean_text(b"\xff\xfe\xfa", max_chars=100)
    with pytest.raises(InvalidInput, match="limit"):
        clean_text("x" * 100_001, max_chars=100_000)
    with pytest.raises(InvalidInput, match="empty"):
        clean_text(" \t ", max_chars=10)
