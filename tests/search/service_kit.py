"""The search service tests' collection and helpers: seven texts and eleven colour photos
(one red photo re-encoded six times, a crop of it, blue, green, yellow, half red and half white)
encoded by ``HashingEncoder`` into a ``NumpyIndex``; ``make_service`` over it. The ``all_ids``
and ``service`` fixtures (``conftest``) build them."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from PIL import Image

from loupe.search.index.base import SEMANTIC, VISUAL, Point
from loupe.search.index.memory_store import NumpyIndex
from loupe.search.query import SearchResult
from loupe.search.service import SearchService
from tests.search.conftest import HashingEncoder, photo

TEXTS = {
    "t-ocean": "blue ocean waves",
    "t-truck-red": "red truck",
    "t-apple-red": "red apple",
    "t-truck-blue": "blue truck",
    "t-apple-blue": "blue apple",
    "t-forest": "green forest trees",
    "t-sun": "yellow sun",
}
RED_COPIES = [f"i-red-{n}" for n in range(6)]  # one photo, re-encoded six times


def _images() -> dict[str, Image.Image]:
    images = {name: photo("red", noise=4, seed=n) for n, name in enumerate(RED_COPIES)}
    images["i-red-crop"] = photo("red", seed=9).crop((2, 2, 46, 46))
    images["i-blue"] = photo("blue")
    images["i-green"] = photo("green")
    images["i-yellow"] = photo("yellow")
    half = np.asarray(photo("red")).copy()
    half[:, 24:] = np.asarray(photo("white"))[:, 24:]
    images["i-red-white"] = Image.fromarray(half, "RGB")
    return images


def build(index: NumpyIndex, encoder: HashingEncoder, name: str) -> list[str]:
    index.create_collection(
        name, model_id=encoder.model_id, dim=encoder.dim, visual_dim=encoder.visual_dim
    )
    text_vectors = encoder.encode_texts(list(TEXTS.values()))
    points = [
        Point(pid, {SEMANTIC: vec}, {"modality": "text", "tags": ["words"], "width": 0})
        for pid, vec in zip(TEXTS, text_vectors, strict=True)
    ]
    images = _images()
    encoded = encoder.encode_images(list(images.values()))
    assert encoded.visual is not None
    for row, pid in enumerate(images):
        vectors = {SEMANTIC: encoded.semantic[row], VISUAL: encoded.visual[row]}
        payload = {"modality": "image", "tags": ["photo"], "width": 40 + row}
        points.append(Point(pid, vectors, payload))
    index.upsert(name, points)
    return [p.id for p in points]


def make_service(index: NumpyIndex, encoder: HashingEncoder, **kwargs: object) -> SearchService:
    options: dict[str, object] = {
        "alias": "loupe",
        "cache_size": 64,
        "max_in_flight": 8,
        "batch_wait_ms": 1.0,
    }
    options.update(kwargs)
    return SearchService(index, encoder, **options)  # type: ignore[arg-type]


def ids(result: SearchResult) -> list[str]:
    return [hit.id for hit in result.hits]


def wait_until(condition: Callable[[], bool]) -> None:
    """Poll a condition set by another thread (a hang guard, not a timing assertion)."""
    for _ in range(2000):
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError("condition never became true")
