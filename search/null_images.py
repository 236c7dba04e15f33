"""Pictures of nothing: the null distribution behind image queries' and "more like this" cuts.

The image-side twin of ``search.null_queries``: 24 synthetic 224 px pictures that show no object
or scene (flat colours, gradients, stripes and checks, uniform and smoothed noise), drawn from a
fixed seed so every process calibrates on the same ones. An image query or "more like this"
whose hits are no closer to it than these pictures get to their nearest items has no good match.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

SIZE = 224
SEED = 20261130
FLAT = ((0, 0, 0), (255, 255, 255), (128, 128, 128), (200, 30, 30), (30, 160, 60), (40, 60, 200))


def _image(array: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), "RGB")


def null_images() -> list[Image.Image]:
    """The 24 pictures, always the same."""
    rng = np.random.default_rng(SEED)
    out = [Image.new("RGB", (SIZE, SIZE), colour) for colour in FLAT]
    ramp = np.linspace(0, 255, SIZE)
    for _ in range(6):  # two-colour gradients, horizontal or vertical
        a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        t = ramp[None, :, None] / 255 if rng.random() < 0.5 else ramp[:, None, None] / 255
        out.append(_image(np.broadcast_to(a + (b - a) * t, (SIZE, SIZE, 3))))
    for _ in range(6):  # stripes or checks
        period = int(rng.integers(4, 40))
        grid = (np.arange(SIZE) // period) % 2
        mask = grid[None, :] ^ grid[:, None] if rng.random() < 0.5 else np.tile(grid, (SIZE, 1))
        a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        out.append(_image(np.where(mask[..., None] == 1, a, b)))
    for n in range(6):  # noise, half of it smoothed into blotches
        noise = _image(rng.integers(0, 256, (SIZE, SIZE, 3)))
        out.append(noise.filter(ImageFilter.GaussianBlur(6)) if n % 2 else noise)
    return out
