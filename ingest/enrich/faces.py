"""Faces counted with BlazeFace full-range, Google MediaPipe's face detector (Apache-2.0): its
TFLite weights converted to a size-free ONNX graph (``scripts/export_blazeface_onnx.py``),
shipped in ``data/`` (``data/blazeface-full-range.LICENSE``) and run by onnxruntime.

The frame is scaled to ``LONGEST_PX`` on its longest side and padded (black) to multiples of
32, so a 4:3 photo costs 224×192, not a letterboxed square. One session serves every thread
(onnxruntime's ``run`` is thread-safe), loaded once, one thread per call and no spinning pool:
ingestion's threads are the parallelism.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loupe.ingest.enrich.base import Frame, box

MODEL = Path(__file__).parent / "data" / "blazeface-full-range.onnx"
LONGEST_PX = 224  # the model was trained at 192; 224 finds more faces of 20-28 px at 256
STRIDE = 4  # one anchor per 4x4 cell
PAD_TO = 32  # the network's coarsest stride: each padded side is a multiple of it
MIN_SCORE = 0.6
NMS_IOU = 0.3
MIN_FACE_PX = 16 / 256  # a face narrower than this share of the longest side is ignored
MIN_FACE_FRACTION = 0.06  # ... or than this share of the shorter side


def padded(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.float32], int, int]:
    """``rgb`` centred on black sides that are multiples of ``PAD_TO``, scaled to [-1, 1],
    NCHW; with the left and top padding in pixels."""
    height, width = rgb.shape[:2]
    tall, wide = -(-height // PAD_TO) * PAD_TO, -(-width // PAD_TO) * PAD_TO
    left, top = (wide - width) // 2, (tall - height) // 2
    tensor = np.full((3, tall, wide), -1.0, np.float32)
    tensor[:, top : top + height, left : left + width] = rgb.transpose(2, 0, 1) / 127.5 - 1.0
    return tensor[None], left, top


def anchors(tall: int, wide: int) -> NDArray[np.float32]:
    """Cell centres (x, y) in input pixels, row by row, for a ``tall`` × ``wide`` input."""
    ys = (np.arange(tall // STRIDE, dtype=np.float32) + 0.5) * STRIDE
    xs = (np.arange(wide // STRIDE, dtype=np.float32) + 0.5) * STRIDE
    grid_y, grid_x = np.meshgrid(ys, xs, indexing="ij")
    return np.stack([grid_x.ravel(), grid_y.ravel()], axis=1)


def suppress(boxes: NDArray[np.float32], order: NDArray[np.intp]) -> list[int]:
    """Greedy non-maximum suppression over ``boxes`` taken in ``order`` (best first)."""
    keep: list[int] = []
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order.size:
        first, rest = int(order[0]), order[1:]
        keep.append(first)
        low = np.maximum(boxes[first, :2], boxes[rest, :2])
        high = np.minimum(boxes[first, 2:], boxes[rest, 2:])
        inter = np.prod(np.clip(high - low, 0, None), axis=1)
        order = rest[inter <= NMS_IOU * (areas[first] + areas[rest] - inter)]
    return keep


class FaceEnricher:
    name = "faces"

    def __init__(self, *, min_score: float = MIN_SCORE) -> None:
        self.min_score = min_score
        self._session: Any = None
        self._lock = threading.Lock()

    def empty(self) -> dict[str, Any]:
        return {"faces": None, "face_boxes": []}

    def session(self) -> Any:
        """The network, loaded on first use (once per process, shared by the threads)."""
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._session = ort.InferenceSession(
                    str(MODEL), options, providers=["CPUExecutionProvider"]
                )
            return self._session

    def load(self) -> None:
        self.session()

    def __call__(self, frame: Frame) -> dict[str, Any]:
        rgb = frame.small(LONGEST_PX)
        height, width = rgb.shape[:2]
        tensor, left, top = padded(rgb)
        session = self._session or self.session()
        logits, regressors = session.run(["classifier", "regressors"], {"input": tensor})
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits.reshape(-1), -80.0, 80.0)))
        found = np.flatnonzero(scores >= self.min_score)
        # per anchor: centre offset and size in input pixels (then 6 key points, not used)
        raw = regressors.reshape(-1, 16)[found, :4]
        centre = raw[:, :2] + anchors(*tensor.shape[2:])[found]
        half = raw[:, 2:4] / 2
        corners = np.concatenate([centre - half, centre + half], axis=1)
        corners -= np.array([left, top, left, top], np.float32)  # back to the frame's pixels
        least = max(MIN_FACE_PX * max(width, height), MIN_FACE_FRACTION * min(width, height))
        order = np.argsort(-scores[found])
        boxes = [
            box(x0, y0, x1, y1, width=width, height=height)
            for x0, y0, x1, y1 in corners[suppress(corners, order)].tolist()
            if x1 - x0 >= least
        ]
        return {"faces": len(boxes), "face_boxes": boxes}
