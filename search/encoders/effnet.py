"""The bundled image tower: EfficientNet-Lite0 (ImageNet-1k), class logits and pooled features.

On CPU the graph runs in onnxruntime (about 9x torch's speed on 2 cores) from the ONNX file that
ships in ``search/data`` (exported by ``scripts/export_effnet_onnx.py``): no torch, no export at
run time. On CUDA it runs in torch (``effnet_torch``, needs ``loupe[clip]``). ``prepare_images``
is model-free and thread-safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from loupe.search.encoders.base import EncoderUnavailable

IMAGE_SIZE = 224
FEATURE_DIM = 1280
NUM_CLASSES = 1000
_RESIZE_SHORT = 256  # resize the shorter side to this, then centre-crop IMAGE_SIZE
ONNX_NAME = "effnet-lite0.onnx"  # made by scripts/export_effnet_onnx.py; provenance in .json


@dataclass(frozen=True, slots=True)
class TowerOutput:
    """Raw outputs of a batch: ``logits`` (n x 1000) and pooled ``features`` (n x 1280)."""

    logits: NDArray[np.float32]
    features: NDArray[np.float32]


def prepare_one(image: Image.Image) -> NDArray[np.float32]:
    """One image → (3, 224, 224) float32 in [-1, 1]: shorter side to 256, centre crop 224."""
    if image.format == "JPEG" and image.mode in ("RGB", "L", "CMYK", "YCbCr"):
        image.draft("RGB", (_RESIZE_SHORT, _RESIZE_SHORT))
    if image.mode != "RGB":
        image = image.convert("RGB")
    width, height = image.size
    scale = _RESIZE_SHORT / min(width, height)
    new_w, new_h = max(IMAGE_SIZE, round(width * scale)), max(IMAGE_SIZE, round(height * scale))
    resized = image.resize((new_w, new_h), Image.Resampling.BILINEAR, reducing_gap=2.0)
    left, top = (new_w - IMAGE_SIZE) // 2, (new_h - IMAGE_SIZE) // 2
    crop = resized.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE))
    pixels = np.asarray(crop, dtype=np.float32)
    return ((pixels - 127.5) / 127.5).transpose(2, 0, 1)


def prepare_batch(images: Sequence[Image.Image]) -> NDArray[np.float32]:
    """Images → (n, 3, 224, 224) float32 batch. Thread-safe; needs no model."""
    if not images:
        return np.zeros((0, 3, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    return np.stack([prepare_one(image) for image in images])


def shipped_file(name: str) -> Traversable:
    """A file shipped in ``search/data`` (installed as ``loupe/search/data``)."""
    return resources.files("loupe.search").joinpath(f"data/{name}")


def onnx_session(path: Path | None = None, *, threads: int | None = None) -> Any:
    """An onnxruntime CPU session over ``path``, by default the shipped graph."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise EncoderUnavailable("the bundled encoder needs onnxruntime (pip install it)") from exc
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    # Idle intra-op threads would otherwise spin on the cores queries need (see
    # ingest.child_embedder); a forward pass of a batch is long enough not to notice the wake-up.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    if path is not None:
        return _open(ort, path, options)
    with resources.as_file(shipped_file(ONNX_NAME)) as shipped:
        return _open(ort, shipped, options)


def _open(ort: Any, path: Path, options: Any) -> Any:
    if not path.is_file():
        raise EncoderUnavailable(f"the bundled image tower {path} is missing: reinstall loupe")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_forward(session: Any, batch: NDArray[np.float32]) -> TowerOutput:
    """Forward pass in onnxruntime."""
    logits, features = session.run(["logits", "features"], {"pixels": batch})
    return TowerOutput(
        logits=np.asarray(logits, dtype=np.float32), features=np.asarray(features, np.float32)
    )
