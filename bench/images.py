"""Photo-like test images: random crops, rotations, flips and colour shifts of the sample photos
(``ingest.samples``), so the classifier sees real content; every file has distinct bytes."""

from __future__ import annotations

import functools
import hashlib
import io
import random
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

from loupe.ingest.samples import SAMPLES, _load

SIZES = ((640, 480), (480, 640), (560, 560))  # about 0.3 megapixels each


def sample_photos() -> dict[str, Image.Image]:
    """The sample photos as RGB images, by stem."""
    return {stem: _load(source).convert("RGB") for stem, (source, _) in SAMPLES.items()}


def augment(photo: Image.Image, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """A random crop (40-100 % of each side), small rotation, flip and colour shift."""
    width, height = photo.size
    crop_w = int(width * rng.uniform(0.4, 1.0))
    crop_h = int(height * rng.uniform(0.4, 1.0))
    left = rng.randint(0, width - crop_w)
    top = rng.randint(0, height - crop_h)
    image = photo.crop((left, top, left + crop_w, top + crop_h))
    angle = rng.uniform(-15, 15)
    image = image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False)
    if rng.random() < 0.5:
        image = ImageOps.mirror(image)
    image = ImageEnhance.Color(image).enhance(rng.uniform(0.6, 1.4))
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.8, 1.2))
    image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.8, 1.2))
    return ImageOps.fit(image, size, method=Image.Resampling.BILINEAR)


def jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def photo_jpeg(index: int, size: tuple[int, int], *, seed: int = 0) -> bytes:
    """The ``index``-th photo-like JPEG of ``size`` (width, height), the same for the same
    arguments: an augmented sample photo, as ``write_photos`` makes them."""
    photos = _photos()
    stems = sorted(photos)
    rng = random.Random(seed * 1_000_003 + index)
    image = augment(photos[stems[index % len(stems)]], rng, size)
    return jpeg_bytes(image, quality=rng.randint(82, 92))


@functools.cache
def _photos() -> dict[str, Image.Image]:
    return sample_photos()


def write_photos(
    folder: Path, count: int, *, seed: int = 0, size: tuple[int, int] | None = None
) -> list[Path]:
    """Write ``count`` distinct photo-like JPEGs into ``folder``; returns their paths. Each is
    ``size`` (width, height), or by default one of ``SIZES`` (about 0.3 MP)."""
    folder.mkdir(parents=True, exist_ok=True)
    photos = sample_photos()
    stems = sorted(photos)
    rng = random.Random(seed)
    seen: set[str] = set()
    paths: list[Path] = []
    while len(paths) < count:
        stem = stems[len(paths) % len(stems)]
        image = augment(photos[stem], rng, size or rng.choice(SIZES))
        data = jpeg_bytes(image, quality=rng.randint(82, 92))
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        path = folder / f"{stem}-{len(paths):06d}.jpg"
        path.write_bytes(data)
        paths.append(path)
    return paths
