"""CLIP's image preprocessing in uint8 on the CPU, normalised on the model's device, and the
prepared batches (``PreparedImages``) that go from ``prepare_images`` to ``embed_prepared``.

transformers' CLIP image processor (what sentence-transformers' ``preprocess`` runs) turns each
photo into a float32 CHW array on the CPU through several NumPy/PIL round trips: 1.3 ms of
Python a photo that holds the GIL, so it does not scale across threads (measured on a 16-core
GPU machine: 778 img/s on one thread, 894 on sixteen, while the GPU's forward pass took 20,000;
BENCHMARKS.md "GPU"). ``PixelRecipe`` does the same resize and crop with one PIL call and a
slice, keeps uint8 (4x less to copy to the GPU), and rescales/normalises on the device.

Same pixels as the processor: the resize is PIL's, with the processor's resample filter and its
output size (short side to ``shortest_edge``, long side ``int(shortest_edge * long / short)``),
and the crop takes the processor's offsets (``(size - crop) // 2``). A processor configured any
other way (fixed height/width, no crop, a crop larger than the resized image, ...) gets no
recipe and the encoder keeps the processor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

PIXELS = "pixels_u8"  # the PreparedImages feature holding (n, h, w, 3) uint8 pixels
IMAGE = {"modality": "image"}  # what sentence-transformers' preprocess adds for images


def image_processor(model: Any) -> Any:
    """The transformers image processor of a loaded sentence-transformers CLIP, or None."""
    first = model[0] if len(model) else None
    return getattr(getattr(first, "processor", None), "image_processor", None)


def _field(container: Any, key: str) -> Any:
    if isinstance(container, Mapping):
        return container.get(key)
    return getattr(container, key, None)


@dataclass(frozen=True, slots=True)
class PixelRecipe:
    """Resize the short side to ``short_edge`` (PIL ``resample``), centre-crop ``crop``
    (height, width), then on the device ``(x * scale - mean) / std`` per channel."""

    short_edge: int
    crop: tuple[int, int]
    resample: int
    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    @classmethod
    def of(cls, processor: Any) -> PixelRecipe | None:
        """The recipe of a transformers CLIP image processor, or None when it is configured in
        a way this recipe does not reproduce."""
        if processor is None:
            return None
        flags = ("do_resize", "do_center_crop", "do_rescale", "do_normalize")
        if not all(_field(processor, flag) is True for flag in flags):
            return None
        size, crop = _field(processor, "size"), _field(processor, "crop_size")
        short = _field(size, "shortest_edge")
        height, width = _field(crop, "height"), _field(crop, "width")
        if _field(size, "longest_edge") or not all(
            isinstance(v, int) for v in (short, height, width)
        ):
            return None
        mean, std = _field(processor, "image_mean"), _field(processor, "image_std")
        resample = _field(processor, "resample")
        scale = _field(processor, "rescale_factor")
        if mean is None or std is None or len(mean) != 3 or len(std) != 3 or scale is None:
            return None
        if resample is None or max(height, width) > short:
            return None
        return cls(
            short_edge=short,
            crop=(height, width),
            resample=int(resample),
            scale=float(scale),
            mean=(float(mean[0]), float(mean[1]), float(mean[2])),
            std=(float(std[0]), float(std[1]), float(std[2])),
        )

    def pixels(self, image: Image.Image) -> NDArray[np.uint8]:
        """One photo as (crop height, crop width, 3) uint8, exactly the processor's pixels."""
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        width, height = rgb.size
        short, long = (width, height) if width <= height else (height, width)
        new_long = int(self.short_edge * long / short)
        size = (self.short_edge, new_long) if width <= height else (new_long, self.short_edge)
        resized = rgb.resize(size, resample=self.resample)
        top = (resized.height - self.crop[0]) // 2
        left = (resized.width - self.crop[1]) // 2
        return np.asarray(resized)[top : top + self.crop[0], left : left + self.crop[1]]

    def batch(self, images: Sequence[Image.Image]) -> NDArray[np.uint8]:
        """(n, crop height, crop width, 3) uint8."""
        out = np.empty((len(images), *self.crop, 3), dtype=np.uint8)
        for row, image in enumerate(images):
            out[row] = self.pixels(image)
        return out

    def normalise(self, pixels: Any, dtype: Any) -> Any:
        """A (n, h, w, 3) uint8 tensor on the device → (n, 3, h, w) ``dtype`` model input."""
        import torch

        device = pixels.device
        mean = torch.tensor(self.mean, device=device, dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=device, dtype=torch.float32).view(1, 3, 1, 1)
        values = pixels.permute(0, 3, 1, 2).to(torch.float32) * self.scale
        return ((values - mean) / std).to(dtype)


@dataclass(frozen=True, slots=True)
class PreparedImages:
    """Preprocessed images: sentence-transformers features (``pixel_values``: n, 3, H, W)."""

    features: dict[str, Any]
    count: int

    def slice(self, start: int, stop: int) -> PreparedImages:
        """Rows ``start:stop`` of every batch-first tensor; other entries are shared."""
        sliced = {
            key: value[start:stop] if _is_batch_first(value, self.count) else value
            for key, value in self.features.items()
        }
        return PreparedImages(sliced, min(stop, self.count) - start)

    @classmethod
    def join(cls, parts: Sequence[PreparedImages]) -> PreparedImages:
        """One batch of ``parts`` in order (the image batcher joins concurrent requests')."""
        import torch

        count = sum(part.count for part in parts)
        features = {
            key: torch.cat([part.features[key] for part in parts])
            if _is_batch_first(value, parts[0].count)
            else value
            for key, value in parts[0].features.items()
        }
        return cls(features, count)


def _is_batch_first(value: object, count: int) -> bool:
    shape = getattr(value, "shape", None)
    return shape is not None and len(shape) > 0 and shape[0] == count
