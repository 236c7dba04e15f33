"""Faces counted with OpenCV's Haar cascade (Lienhart's frontal face, alt2: Intel License
Agreement, BSD-style, shipped inside ``opencv-python-headless``).

A cascade object is not safe to share between threads, so each thread gets its own.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from loupe.ingest.enrich.base import Frame, box

CASCADE = "haarcascade_frontalface_alt2.xml"
FACE_PX = 256  # longest side the cascade scans (cost grows with the area)
MIN_FACE_FRACTION = 0.06  # a face smaller than this share of the shorter side is ignored


class FaceEnricher:
    name = "faces"

    def __init__(self, *, min_neighbors: int = 5) -> None:
        self.min_neighbors = min_neighbors
        self._local = threading.local()

    def empty(self) -> dict[str, Any]:
        return {"faces": None, "face_boxes": []}

    def _cascade(self) -> Any:
        cascade = getattr(self._local, "cascade", None)
        if cascade is None:
            import cv2

            cascade = cv2.CascadeClassifier(str(Path(cv2.__file__).parent / "data" / CASCADE))
            if cascade.empty():
                raise RuntimeError(f"OpenCV could not load {CASCADE}")
            self._local.cascade = cascade
        return cascade

    def load(self) -> None:
        self._cascade()

    def __call__(self, frame: Frame) -> dict[str, Any]:
        gray = frame.small(FACE_PX, gray=True)
        height, width = gray.shape[:2]
        side = max(20, int(min(width, height) * MIN_FACE_FRACTION))
        found = self._cascade().detectMultiScale(
            gray, scaleFactor=1.25, minNeighbors=self.min_neighbors, minSize=(side, side)
        )
        boxes = [
            box(x, y, x + w, y + h, width=width, height=height)
            for x, y, w, h in (tuple(int(v) for v in f) for f in found)
        ]
        return {"faces": len(boxes), "face_boxes": boxes}
