"""Text read in the image: PP-OCRv6 small detection + recognition and the PP-OCR direction
classifier (0°/180°), ONNX models shipped inside ``rapidocr`` (Apache-2.0), English and Chinese
in one model. EXIF rotation is already undone at decode; sideways lines (taller than wide) are
turned by the crop step and upside-down ones by the classifier; when lines are detected but none
reads well in an upright box, the image is read once more turned by 180°.

The detector sees the frame at ≤ 400 px and recognition runs only on the boxes it finds, so an
image without text costs one small forward pass. Lines below ``min_score`` are dropped: on a
photo of a cat the model reads a "0" at 0.73.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loupe.ingest.enrich.base import Frame, box
from loupe.search.text_grams import index_grams

DETECT_PX = 400  # text lower than ~1/50 of the longest side is not found
MAX_LINES = 64


def _readable(text: str) -> bool:
    """At least one letter or digit (a lone punctuation mark is never worth indexing)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


class OcrEnricher:
    name = "ocr"

    def __init__(self, *, min_score: float = 0.8, threads: int = 1) -> None:
        self.min_score = min_score
        self.threads = threads
        self._engine: Any = None
        self._lock = threading.Lock()

    def empty(self) -> dict[str, Any]:
        return {"text": "", "text_lines": [], "text_grams": [], "text_count": 0}

    def load(self) -> Any:
        with self._lock:
            if self._engine is None:
                from rapidocr import RapidOCR

                logging.getLogger("RapidOCR").setLevel(logging.ERROR)
                engine: Any = RapidOCR(
                    params={
                        "Global.log_level": "error",
                        "Global.text_score": 0.0,  # we filter, and need to see weak lines
                        "Det.limit_type": "max",
                        "Det.limit_side_len": DETECT_PX,
                        "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
                        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                    }
                )
                engine._load_det_model()
                engine._load_cls_model()
                engine._load_rec_model()
                self._engine = engine
            return self._engine

    def _read(self, bgr: NDArray[np.uint8]) -> tuple[list[dict[str, Any]], bool]:
        """Accepted lines (boxes as fractions of ``bgr``) and whether a detected box stands
        upright (taller than wide: text the crop step may have turned the wrong way)."""
        result = self.load()(bgr)
        if result.boxes is None or len(result.boxes) == 0:
            return [], False
        height, width = bgr.shape[:2]
        upright = False
        lines: list[dict[str, Any]] = []
        for text, score, quad in zip(
            result.txts or (), result.scores or (), result.boxes, strict=False
        ):
            xs, ys = [float(p[0]) for p in quad], [float(p[1]) for p in quad]
            upright = upright or (max(ys) - min(ys)) > (max(xs) - min(xs))
            text = str(text).strip()
            if float(score) < self.min_score or not _readable(text):
                continue
            where = box(min(xs), min(ys), max(xs), max(ys), width=width, height=height)
            lines.append({"text": text, "score": round(float(score), 3), "box": where})
        return lines, upright

    def __call__(self, frame: Frame) -> dict[str, Any]:
        lines, upright = self._read(frame.bgr)
        if upright and not lines:
            # An upright box that reads badly: a photo turned 90° one way has its lines turned
            # the wrong way by the crop step (upside down, and the classifier does not flip
            # them back). Read once more turned by 180° and map the boxes back.
            turned, _ = self._read(np.ascontiguousarray(frame.bgr[::-1, ::-1]))
            lines = [{**line, "box": _turned(line["box"])} for line in turned]
        lines = lines[:MAX_LINES]
        joined = " ".join(line["text"] for line in lines)
        return {
            "text": joined,
            "text_lines": lines,
            "text_grams": index_grams(joined),
            "text_count": len(lines),
        }


def _turned(where: list[float]) -> list[float]:
    x0, y0, x1, y1 = where
    return [round(1 - x1, 4), round(1 - y1, 4), round(1 - x0, 4), round(1 - y0, 4)]
