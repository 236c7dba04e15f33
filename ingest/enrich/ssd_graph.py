"""SSD-MobileNet-v2 (TensorFlow Object Detection API) as an ONNX graph for onnxruntime, built at
load time from the weights OpenCV reads out of the frozen TensorFlow graph, and its detection
step (box decoding and per-class non-maximum suppression) in numpy.

Why: OpenCV's dnn runs this network in ~76 ms of CPU an image (one thread, 300x300);
onnxruntime runs the same layers in ~40 ms (its 3x3 convolutions of the class predictors are
2-3x faster). The graph holds the convolutions, batch norms, ReLU6s and residual adds of the
text graph OpenCV ships for it (``*.pbtxt``), with OpenCV's own weights (``Net.getLayer``), so
its class and box outputs match OpenCV's within 1e-4. The anchors (``PriorBox``) come from one
OpenCV forward pass at load; ``detections`` reproduces OpenCV's ``DetectionOutput`` (centre-size
decoding with the variances, greedy NMS per class at IoU 0.6, 100 at most) for the scores
that are kept. Nothing is written to disk: the weights' licence is unknown (``objects.py``).
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

INPUT_PX = 300
CLASSES = 91  # the class predictors' channels per anchor: COCO ids 1..90, the background (0)
NMS_IOU = 0.6  # detection_out's nms_threshold
TOP_K = 100  # detection_out's top_k and keep_top_k


@dataclass
class _Node:
    name: str
    op: str
    inputs: list[str] = field(default_factory=list)
    strides: list[int] = field(default_factory=list)
    padding: str = "SAME"
    epsilon: float = 1e-3


def parse_text_graph(text: str) -> list[_Node]:
    """The nodes of OpenCV's text graph (names, ops, inputs, strides, padding, epsilon): a
    line reader for the few fields the conversion needs, not a protobuf parser."""
    nodes: list[_Node] = []
    key = ""
    for line in text.splitlines():
        stripped = line.strip()
        if line.startswith("node {"):
            nodes.append(_Node("", ""))
        elif not nodes:
            continue
        elif line.startswith("  name:"):
            nodes[-1].name = stripped.split('"')[1]
        elif line.startswith("  op:"):
            nodes[-1].op = stripped.split('"')[1]
        elif line.startswith("  input:"):
            nodes[-1].inputs.append(stripped.split('"')[1])
        elif stripped.startswith("key:"):
            key = stripped.split('"')[1]
        elif key == "strides" and stripped.startswith("i:"):
            nodes[-1].strides.append(int(stripped[2:]))
        elif key == "padding" and stripped.startswith("s:"):
            nodes[-1].padding = stripped.split('"')[1]
        elif key == "epsilon" and stripped.startswith("f:"):
            nodes[-1].epsilon = float(stripped[2:])
    return nodes


def onnx_model(net: Any, nodes: list[_Node], *, labels: Sequence[int]) -> Any:
    """The network as an ``onnx.ModelProto``: input ``image`` (1x3x300x300 RGB, 0..255, as
    ``cv2.dnn.blobFromImage`` makes it), outputs ``classes`` (logits, anchors x ``labels``:
    the class predictors keep only the channels of those COCO ids, each scored on its own by a
    sigmoid, so the others cost nothing) and ``boxes`` (anchors x 4, OpenCV's x/y order),
    anchors in TensorFlow's order."""
    from onnx import TensorProto, helper, numpy_helper

    alias: dict[str, str] = {}
    graph: list[Any] = []
    weights: list[Any] = []
    heads: dict[str, list[str]] = {"classes": [], "boxes": []}

    def src(name: str) -> str:
        return alias.get(name, name)

    def constant(name: str, value: NDArray[Any]) -> str:
        weights.append(numpy_helper.from_array(value, name))
        return name

    for node in nodes:
        name, op = node.name, node.op
        first = src(node.inputs[0]) if node.inputs else ""
        if op == "Placeholder":
            alias[name] = "image"
        elif op in ("Mul", "Sub"):  # the preprocessor: x * 2/255 - 1
            value = np.array(2 / 255 if op == "Mul" else 1.0, np.float32)
            graph.append(helper.make_node(op, [first, constant(f"{name}/c", value)], [name]))
        elif op in ("Conv2D", "DepthwiseConv2dNative"):
            blobs = net.getLayer(net.getLayerId(name)).blobs
            if "ClassPredictor" in name:
                anchors = blobs[0].shape[0] // CLASSES
                keep = [a * CLASSES + i for a in range(anchors) for i in labels]
                blobs = [blob[keep] for blob in blobs]
            args = [first, constant(f"{name}/W", blobs[0])]
            if len(blobs) > 1:  # the BiasAdd OpenCV folded in
                args.append(constant(f"{name}/b", blobs[1].ravel()))
            options: dict[str, Any] = {
                "strides": node.strides[1:3],
                "auto_pad": "SAME_UPPER" if node.padding == "SAME" else "VALID",
            }
            if op == "DepthwiseConv2dNative":
                options["group"] = int(blobs[0].shape[0])
            graph.append(helper.make_node("Conv", args, [name], **options))
        elif op == "FusedBatchNorm":
            mean, var, gamma, beta = (
                b.ravel().astype(np.float32) for b in net.getLayer(net.getLayerId(name)).blobs
            )
            args = [first] + [
                constant(f"{name}/{part}", value)
                for part, value in (("g", gamma), ("b", beta), ("m", mean), ("v", var))
            ]
            graph.append(helper.make_node("BatchNormalization", args, [name], epsilon=node.epsilon))
        elif op == "Relu6":
            graph.append(helper.make_node("Clip", [first, "zero", "six"], [name]))
        elif op == "Add":
            graph.append(helper.make_node("Add", [first, src(node.inputs[1])], [name]))
        elif op == "Identity":
            alias[name] = first
        elif op == "BiasAdd":  # a predictor's output: flattened in TensorFlow's (h, w, c) order
            alias[name] = first
            head = heads["classes" if "ClassPredictor" in name else "boxes"]
            graph.append(helper.make_node("Transpose", [first], [f"{name}/t"], perm=[0, 2, 3, 1]))
            graph.append(helper.make_node("Reshape", [f"{name}/t", "flat"], [f"{name}/f"]))
            head.append(f"{name}/f")
        # Flatten, ConcatV2, Const, Sigmoid, PriorBox, DetectionOutput: done outside
    constant("zero", np.array(0, np.float32))
    constant("six", np.array(6, np.float32))
    constant("flat", np.array([1, -1], np.int64))
    for output, parts in heads.items():
        graph.append(helper.make_node("Concat", parts, [output], axis=1))
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, INPUT_PX, INPUT_PX])
    outputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, [1, None]) for o in heads]
    model = helper.make_graph(graph, "ssd_mobilenet_v2", [image], outputs, weights)
    return helper.make_model(model, opset_imports=[helper.make_opsetid("", 13)])


@dataclass(frozen=True)
class Ssd:
    """One onnxruntime session (safe to share between threads) and the anchors."""

    session: Any
    labels: NDArray[np.int64]  # the COCO id of each column of the logits
    priors: NDArray[np.float32]  # anchors x 4: xmin, ymin, xmax, ymax (fractions)
    variances: NDArray[np.float32]  # anchors x 4

    def __call__(self, blob: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
        classes, boxes = self.session.run(None, {"image": blob})
        return classes.reshape(-1, len(self.labels)), boxes.reshape(-1, 4)


def load_ssd(folder: Path, *, labels: Sequence[int], threads: int = 1) -> Ssd:
    """Read the frozen graph with OpenCV, convert it (scoring the COCO ids ``labels``), and
    open it in onnxruntime."""
    import cv2
    import onnxruntime as ort

    text = folder / "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"
    net = cv2.dnn.readNetFromTensorflow(str(folder / "frozen_inference_graph.pb"), str(text))
    model = onnx_model(net, parse_text_graph(text.read_text()), labels=labels)
    net.setInput(np.zeros((1, 3, INPUT_PX, INPUT_PX), np.float32))
    anchors = np.asarray(net.forward("PriorBox/concat"), np.float32).reshape(2, -1, 4)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    del net, model
    _trim_heap()
    return Ssd(session, np.array(labels, np.int64), anchors[0], anchors[1])


def _trim_heap() -> None:
    """Hand the heap freed by the conversion back to the system (glibc keeps it otherwise: the
    process stays ~360 MB larger than the ~150 MB the session holds)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def detections(
    logits: NDArray[Any],
    encoded: NDArray[Any],
    priors: NDArray[np.float32],
    variances: NDArray[np.float32],
    *,
    labels: NDArray[np.int64],
    min_score: float,
) -> list[tuple[int, float, list[float]]]:
    """(COCO id, score, [x0, y0, x1, y1] as fractions) of every detection scoring at least
    ``min_score``, best first: OpenCV's ``DetectionOutput`` restricted to those scores (a
    lower-scoring box never suppresses a higher one, so thresholding first changes nothing)."""
    scores = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    anchor, cls = np.nonzero(scores >= min_score)
    if anchor.size == 0:
        return []
    boxes = decode(encoded[anchor], priors[anchor], variances[anchor])
    found: list[tuple[int, float, list[float]]] = []
    for label in np.unique(cls):
        mine = np.flatnonzero(cls == label)
        order = mine[np.argsort(-scores[anchor[mine], label], kind="stable")][:TOP_K]
        for i in suppress(boxes[order]):
            j = order[i]
            found.append((int(labels[label]), float(scores[anchor[j], label]), boxes[j].tolist()))
    found.sort(key=lambda f: -f[1])
    return found[:TOP_K]


def decode(
    encoded: NDArray[Any], priors: NDArray[np.float32], variances: NDArray[np.float32]
) -> NDArray[np.float64]:
    """Centre-size decoding (SSD's ``CENTER_SIZE``, variances not in the targets)."""
    width, height = priors[:, 2] - priors[:, 0], priors[:, 3] - priors[:, 1]
    cx = variances[:, 0] * encoded[:, 0] * width + (priors[:, 0] + priors[:, 2]) / 2
    cy = variances[:, 1] * encoded[:, 1] * height + (priors[:, 1] + priors[:, 3]) / 2
    w = np.exp(variances[:, 2] * encoded[:, 2]) * width
    h = np.exp(variances[:, 3] * encoded[:, 3]) * height
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1).astype(np.float64)


def suppress(boxes: NDArray[np.float64], *, iou: float = NMS_IOU) -> list[int]:
    """Greedy NMS over ``boxes`` sorted best first: the indices kept."""
    kept: list[int] = []
    area = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    for i in range(len(boxes)):
        if kept:
            k = np.array(kept)
            w = np.minimum(boxes[k, 2], boxes[i, 2]) - np.maximum(boxes[k, 0], boxes[i, 0])
            h = np.minimum(boxes[k, 3], boxes[i, 3]) - np.maximum(boxes[k, 1], boxes[i, 1])
            inter = np.clip(w, 0, None) * np.clip(h, 0, None)
            union = area[k] + area[i] - inter
            if np.any(inter > iou * np.where(union > 0, union, np.inf)):
                continue
        kept.append(i)
    return kept
