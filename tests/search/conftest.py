"""A small real encoder for the service tests, and an index fixture.

``HashingEncoder`` puts texts and images into one space with real (if simple) computation:

* text: a signed feature-hashing bag of lower-cased words (blake2b, stable across runs);
* image ``semantic``: the bag of the colour words (red, green, blue, ...) of its pixels, weighted
  by the share of pixels nearest each colour, so a red photo lands near the text "red";
* image ``visual``: an L2-normalised 4x4x4 RGB histogram, so re-encoded or slightly cropped
  copies of a photo are near-identical.

It counts its ``encode_texts`` calls, and ``gate`` (when set) holds every ``encode_texts`` call
until the event is set, with ``entered`` set on entry: threads can be held without timing.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator, Sequence

import numpy as np
import pytest
from PIL import Image

from loupe.search.encoders.base import ImageVectors, TextRole, Vectors, l2_normalise
from loupe.search.index.memory_store import NumpyIndex
from loupe.search.service import SearchService

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 180, 40),
    "blue": (30, 60, 220),
    "yellow": (240, 220, 40),
    "black": (10, 10, 10),
    "white": (245, 245, 245),
}


class HashingEncoder:
    """A real, tiny text+image encoder satisfying ``search.encoders.Encoder``."""

    def __init__(self, *, dim: int = 512, seed: str = "a", with_visual: bool = True) -> None:
        self._dim = dim
        self._seed = seed
        self._with_visual = with_visual
        self.text_calls: list[list[str]] = []
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return f"test-hashing-{self._seed}-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def visual_dim(self) -> int | None:
        return 64 if self._with_visual else None

    @property
    def device(self) -> str:
        return "cpu"

    def load(self) -> None:
        return None

    def _word(self, word: str) -> np.ndarray:
        digest = hashlib.blake2b(f"{self._seed}:{word}".encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        out = np.zeros(self._dim, dtype=np.float32)
        out[value % self._dim] = 1.0 if (value >> 32) & 1 else -1.0
        return out

    def _bag(self, weighted: Sequence[tuple[str, float]]) -> np.ndarray:
        total = np.zeros(self._dim, dtype=np.float32)
        for word, weight in weighted:
            total += np.float32(weight) * self._word(word)
        return total

    def encode_texts(self, texts: Sequence[str], *, role: TextRole = TextRole.QUERY) -> Vectors:
        with self._lock:
            self.text_calls.append(list(texts))
        self.entered.set()
        if self.gate is not None:
            self.gate.wait()
        rows = [self._bag([(w, 1.0) for w in re.findall(r"\w+", t.lower())]) for t in texts]
        return l2_normalise(np.stack(rows) if rows else np.zeros((0, self._dim)))

    def prepare_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return np.stack([np.asarray(im.convert("RGB").resize((32, 32))) for im in images])

    def embed_prepared(self, prepared: np.ndarray) -> ImageVectors:
        palette = np.array(list(COLOURS.values()), dtype=np.float32)
        semantic, visual = [], []
        for pixels in prepared.astype(np.float32):
            flat = pixels.reshape(-1, 3)
            nearest = np.argmin(((flat[:, None, :] - palette[None]) ** 2).sum(-1), axis=1)
            shares = np.bincount(nearest, minlength=len(COLOURS)) / len(flat)
            semantic.append(self._bag(list(zip(COLOURS, shares.tolist(), strict=True))))
            bins = (flat // 64).astype(np.int64)
            codes = bins[:, 0] * 16 + bins[:, 1] * 4 + bins[:, 2]
            visual.append(np.bincount(codes, minlength=64).astype(np.float32))
        return ImageVectors(
            semantic=l2_normalise(np.stack(semantic)),
            visual=l2_normalise(np.stack(visual)) if self._with_visual else None,
        )

    def encode_images(self, images: Sequence[Image.Image]) -> ImageVectors:
        return self.embed_prepared(self.prepare_images(images))


def photo(colour: str, *, noise: int = 0, seed: int = 0, size: int = 48) -> Image.Image:
    """A synthetic photo: mostly ``colour``, a darker band, optional per-pixel noise."""
    rng = np.random.default_rng(seed)
    base = np.zeros((size, size, 3), dtype=np.int16)
    base[:] = COLOURS[colour]
    base[: size // 4] = (np.array(COLOURS[colour]) * 0.8).astype(np.int16)
    if noise:
        base += rng.integers(-noise, noise + 1, size=base.shape, dtype=np.int16)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")


@pytest.fixture
def encoder() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture
def index() -> Iterator[NumpyIndex]:
    store = NumpyIndex()
    yield store
    store.close()


@pytest.fixture
def all_ids(index: NumpyIndex, encoder: HashingEncoder) -> list[str]:
    """The service tests' collection ``c1`` (``service_kit``), aliased ``loupe``: its ids."""
    from tests.search.service_kit import build  # it imports this conftest

    ids = build(index, encoder, "c1")
    index.set_alias("loupe", "c1")
    return ids


@pytest.fixture
def service(
    index: NumpyIndex, encoder: HashingEncoder, all_ids: list[str]
) -> Iterator[SearchService]:
    from tests.search.service_kit import make_service

    svc = make_service(index, encoder)
    yield svc
    svc.close()
