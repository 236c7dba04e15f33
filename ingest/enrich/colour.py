"""Dominant colours (named in English and Chinese), brightness, night and black-and-white, from
pixel statistics of a small copy of the image."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from loupe.ingest.enrich.base import Frame
from loupe.search.attributes import COLOUR_ZH

# hue bands in degrees (upper bounds), for saturated pixels
_HUES = ((15, "red"), (40, "orange"), (70, "yellow"), (160, "green"), (195, "cyan"),
         (255, "blue"), (290, "purple"), (335, "pink"), (360, "red"))  # fmt: skip
SAMPLE_PX = 64
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
MIN_SHARE = 0.12  # a colour covering less of the image is not named
MAX_COLOURS = 3
NIGHT_BRIGHTNESS = 0.22
BW_CHROMA = 0.08  # max - min of RGB, 0..1


def _hsv(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.float32], ...]:
    pixels = rgb.reshape(-1, 3).astype(np.float32) / 255.0
    high, low = pixels.max(axis=1), pixels.min(axis=1)
    chroma = high - low
    safe = np.where(chroma == 0, 1.0, chroma)
    r, g, b = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    hue = np.where(
        high == r, ((g - b) / safe) % 6, np.where(high == g, (b - r) / safe + 2, (r - g) / safe + 4)
    )
    saturation = np.where(high == 0, 0.0, chroma / np.where(high == 0, 1.0, high))
    return (hue * 60.0).astype(np.float32), saturation.astype(np.float32), high, chroma


def _names(
    hue: NDArray[np.float32], sat: NDArray[np.float32], val: NDArray[np.float32]
) -> NDArray[np.str_]:
    names = np.full(hue.shape, "grey", dtype="<U6")
    saturated = (sat >= 0.25) & (val >= 0.2)
    lower = 0.0
    for upper, name in _HUES:
        names[saturated & (hue >= lower) & (hue < upper)] = name
        lower = upper
    brownish = saturated & (hue >= 10) & (hue < 45) & (val < 0.6)
    names[brownish] = "brown"
    names[val < 0.2] = "black"
    names[~saturated & (val >= 0.8) & (sat < 0.15)] = "white"
    return names


class ColourEnricher:
    name = "colour"

    def empty(self) -> dict[str, Any]:
        return {"colours": [], "colours_zh": [], "brightness": None, "night": None, "bw": None}

    def load(self) -> None:
        return None

    def __call__(self, frame: Frame) -> dict[str, Any]:
        small = frame.small(SAMPLE_PX)
        hue, sat, val, chroma = _hsv(small)
        names, counts = np.unique(_names(hue, sat, val), return_counts=True)
        order = np.argsort(-counts, kind="stable")
        total = float(counts.sum())
        colours = [str(names[i]) for i in order if counts[i] / total >= MIN_SHARE][:MAX_COLOURS]
        brightness = (
            float(np.asarray(_LUMA @ small.reshape(-1, 3).astype(np.float32).T).mean()) / 255.0
        )
        return {
            "colours": colours,
            "colours_zh": [COLOUR_ZH[c] for c in colours],
            "brightness": round(brightness, 3),
            "night": brightness < NIGHT_BRIGHTNESS,
            "bw": float(np.percentile(chroma, 95)) < BW_CHROMA,
        }
