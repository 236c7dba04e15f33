"""Validation of untrusted uploads: images (Pillow) and texts. Every refusal is InvalidInput or
PayloadTooLarge with a message safe to show; nothing here touches the stores."""

from __future__ import annotations

import io
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import PurePath

from PIL import Image, ImageOps, UnidentifiedImageError

from loupe.ingest.exif_date import taken_at
from loupe.search.errors import InvalidInput, PayloadTooLarge

# Formats Loupe accepts, by Pillow's format name → mime type.
FORMATS: dict[str, str] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
_EXTENSIONS: dict[str, str] = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".jpe": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".gif": "GIF",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
IMAGE_EXTENSIONS = frozenset(_EXTENSIONS)
_NEUTRAL_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


@dataclass(frozen=True, slots=True)
class ImageInfo:
    mime: str
    width: int
    height: int
    taken_at: float | None = None  # EXIF capture date (epoch seconds), when the file has one


def _claimed_format(filename: str | None, content_type: str | None) -> tuple[str | None, str]:
    """The format a name or content type claims, and which of the two claimed it."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype and ctype not in _NEUTRAL_TYPES:
        for fmt, mime in FORMATS.items():
            if mime == ctype or (fmt == "JPEG" and ctype == "image/jpg"):
                return fmt, "content type"
        raise InvalidInput(f"content type {ctype!r} is not a supported image type")
    if filename:
        ext = PurePath(filename).suffix.lower()
        if ext in _EXTENSIONS:
            return _EXTENSIONS[ext], "file name"
    return None, ""


def _check_header(
    img: Image.Image, *, filename: str | None, content_type: str | None, max_pixels: int
) -> ImageInfo:
    fmt = img.format or ""
    width, height = img.size
    if fmt not in FORMATS:
        raise InvalidInput(f"image format {fmt or 'unknown'} is not supported")
    if width < 1 or height < 1:
        raise InvalidInput("the image has no pixels")
    if width * height > max_pixels:
        raise InvalidInput(f"the image is {width}x{height}: over the limit of {max_pixels} pixels")
    claimed, by = _claimed_format(filename, content_type)
    if claimed is not None and claimed != fmt:
        raise InvalidInput(f"the file is {fmt} but its {by} says {claimed}")
    return ImageInfo(mime=FORMATS[fmt], width=width, height=height, taken_at=taken_at(img))


def _open_checked(
    data: bytes,
    *,
    filename: str | None,
    content_type: str | None,
    max_bytes: int,
    max_pixels: int,
    draft_size: int | None,
) -> tuple[ImageInfo, Image.Image]:
    """Check the header, then decode the whole file once (truncated files fail here)."""
    if not data:
        raise InvalidInput("the file is empty")
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the file is larger than the limit of {max_bytes} bytes")
    try:
        img = Image.open(io.BytesIO(data))
        info = _check_header(
            img, filename=filename, content_type=content_type, max_pixels=max_pixels
        )
        if draft_size and img.format == "JPEG":
            img.draft("RGB", (draft_size, draft_size))
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(f"the image is over the limit of {max_pixels} pixels") from None
    except UnidentifiedImageError:
        raise InvalidInput(
            "the file is not a supported image (JPEG, PNG, WebP, GIF, BMP, TIFF)"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput("the image is truncated or corrupt") from exc
    return info, img


def inspect_image(
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    max_bytes: int,
    max_pixels: int,
) -> ImageInfo:
    """Check that ``data`` is a whole, supported, reasonably sized image whose name and type
    tell the truth. Decodes it fully once (truncated files fail here, not in a worker)."""
    info, img = _open_checked(
        data,
        filename=filename,
        content_type=content_type,
        max_bytes=max_bytes,
        max_pixels=max_pixels,
        draft_size=None,
    )
    img.close()
    return info


def load_image(
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    max_bytes: int,
    max_pixels: int,
    draft_size: int | None = 448,
) -> tuple[ImageInfo, Image.Image]:
    """``inspect_image`` and ``decode_image`` in one decode: the checks, then the upright RGB
    image (JPEGs at a reduced scale with ``draft_size``)."""
    info, img = _open_checked(
        data,
        filename=filename,
        content_type=content_type,
        max_bytes=max_bytes,
        max_pixels=max_pixels,
        draft_size=draft_size,
    )
    return info, _upright_rgb(img)


def decode_image(data: bytes, *, draft_size: int | None = 448) -> Image.Image:
    """Decode bytes already accepted by ``inspect_image`` to an upright RGB image.

    With ``draft_size`` JPEGs decode at a reduced scale (fast; enough for a 224 px encoder).
    Bytes that no longer decode (a stored original that is not what was accepted) raise
    InvalidInput, an item failure, never an error of the whole batch."""
    try:
        opened = Image.open(io.BytesIO(data))
        if draft_size and opened.format == "JPEG":
            opened.draft("RGB", (draft_size, draft_size))
        return _upright_rgb(opened)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InvalidInput(f"the stored image cannot be decoded ({type(exc).__name__})") from None


def _upright_rgb(opened: Image.Image) -> Image.Image:
    img: Image.Image = ImageOps.exif_transpose(opened) or opened
    if img.mode != "RGB":
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            background = Image.new("RGB", rgba.size, (255, 255, 255))
            background.paste(rgba, mask=rgba.getchannel("A"))
            return background
        img = img.convert("RGB")
    return img


def clean_text(raw: str | bytes, *, max_chars: int) -> str:
    """A text item or query: UTF-8, NFC-normalised, control characters dropped, non-empty."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the text is not valid UTF-8") from None
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("the text is not valid Unicode (lone surrogate)") from None
    text = unicodedata.normalize("NFC", raw)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = text.strip()
    if not text:
        raise InvalidInput("the text is empty")
    if len(text) > max_chars:
        raise InvalidInput(f"the text has {len(text)} characters: the limit is {max_chars}")
    return text
