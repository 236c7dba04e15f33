"""Text read in the image: PP-OCRv6 small detection + recognition and the PP-OCR direction
classifier (0°/180°), ONNX models shipped inside ``rapidocr`` (Apache-2.0), English and Chinese
in one model. EXIF rotation is already undone at decode; sideways lines (taller than wide) are
turned by the crop step and upside-down ones by the classifier; when lines are detected but none
reads well in an upright box, the image is read once more turned by 180°.

The detector glances at the frame at 256 px and, only if it sees text there, looks at ≤ 400 px;
recognition runs only on the boxes it finds (``_Detector``), so an image without text costs one
small forward pass. Lines below ``min_score`` are dropped: on a photo of a cat the model reads
a "0" at 0.73.

Very short reads need more (``accepted``). On 757 photos and drawings (GCompris's data and the
sample gallery) the model read 47 lines of one glyph at ≥ 0.8. 33 were an object's shape, most
boxes covering most of the picture: a hammer as "T" at 1.00, a fish as "一", knife, fork and
spoon as "三", windmills as "X", eyes as "0", the Capitol's columns as "111". Of the 14 real
ones the rule keeps the 5 that stand beside longer text (a tape measure, a multimeter) and
loses 8 cartoon digits that fill a child's picture and a toy block's "1". Lines kept there:
70 before, 24 after, all on pictures that hold writing.
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
UPRIGHT = 1.25  # a box this much taller than wide may hold a line turned sideways
SHORT_MIN_SCORE = 0.9  # a short line (below) needs this confidence
SHORT_MAX_AREA = 0.3  # ... and a box covering at most this share of the image


def glyphs(text: str) -> set[str]:
    """The distinct letters and digits of a line, case folded ("0.0.0" has one, "RE16" four)."""
    return {ch.casefold() for ch in text if unicodedata.category(ch)[0] in "LN"}


def _ideograph(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY"))


def accepted(lines: list[dict[str, Any]], *, min_score: float) -> list[dict[str, Any]]:
    """The lines worth keeping, each ``{"text", "score", "box"}`` (box as fractions).

    A line needs ``min_score``. A *short* one (two distinct glyphs, neither a Chinese
    character: "CE", "23", "WC") also needs ``SHORT_MIN_SCORE`` and a box no larger than
    ``SHORT_MAX_AREA`` of the image: a shape that fills the picture is not writing. A *lone
    glyph* (one distinct letter, digit or character, repeated or not: "T", "一", "111")
    needs all that and a longer line beside it in the same image ("3" on a tape measure that
    also reads "CRAFTSMAN"): alone it is far more often an object's outline than a sign."""
    sure = [line for line in lines if line["score"] >= min_score and glyphs(line["text"])]
    long = [line for line in sure if _kind(line["text"]) == "long"]
    kept: list[dict[str, Any]] = []
    for line in sure:
        kind = _kind(line["text"])
        if kind != "long":
            x0, y0, x1, y1 = line["box"]
            small = (x1 - x0) * (y1 - y0) <= SHORT_MAX_AREA
            if line["score"] < SHORT_MIN_SCORE or not small or (kind == "lone" and not long):
                continue
        kept.append(line)
    return kept


def _kind(text: str) -> str:
    found = glyphs(text)
    if len(found) <= 1:
        return "lone"
    if len(found) == 2 and not any(_ideograph(ch) for ch in found):
        return "short"
    return "long"


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
                        # rapidocr turns the arena off: every pass then maps and frees its
                        # buffers (~1 ms of OCR's ~29 on the benchmark's photos). Inputs are
                        # at most DETECT_PX on a side, so the arena stays small.
                        "EngineConfig.onnxruntime.enable_cpu_mem_arena": True,
                    }
                )
                engine.text_det = _Detector(engine._load_det_model())
                engine._load_cls_model()
                engine._load_rec_model()
                self._engine = engine
            return self._engine

    def _read(self, bgr: NDArray[np.uint8]) -> tuple[list[dict[str, Any]], bool]:
        """Accepted lines (boxes as fractions of ``bgr``) and whether a detected box stands
        upright (``UPRIGHT`` times taller than wide: a line of text the crop step may have
        turned the wrong way; a squarer box holds a glyph or two, and reading the whole image
        again for it cost the 180° read on 7 % of the benchmark's photos)."""
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
            upright = upright or (max(ys) - min(ys)) > UPRIGHT * (max(xs) - min(xs))
            where = box(min(xs), min(ys), max(xs), max(ys), width=width, height=height)
            lines.append({"text": str(text).strip(), "score": round(float(score), 3), "box": where})
        return accepted(lines, min_score=self.min_score), upright

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


MIN_LINE_ASPECT = 1.5  # a box squarer than this holds a glyph or two, not a line


GLANCE_PX = 256  # the detector's first look, at this size ...
GLANCE_PROB = 0.9  # ... must see a pixel this likely to be text, or the image has none


class _Detector:
    """The text detector, glancing first and keeping only boxes worth reading.

    The glance: the detector's probability map at ``GLANCE_PX`` (a third of the work at
    ``DETECT_PX``). Below ``GLANCE_PROB`` everywhere, the image holds no text and the full
    detection is skipped: 80 % of the benchmark's photos and 69 % of 747 GCompris pictures,
    while every sign of the seen set and of 32 signs whose letters stand 1/20 to 1/50 of the
    photo's width peaked at ≥ 0.98 and no GCompris line read before was lost.

    The boxes: those ``accepted`` would refuse whatever they said are dropped before
    recognition: near-square (a glyph or two) and over ``SHORT_MAX_AREA`` of the image. The
    detector draws such a box round the whole of many textured photos (13 of the 43 boxes on
    96 benchmark photos, each a recognition pass of its own)."""

    def __init__(self, detector: Any) -> None:
        from rapidocr.ch_ppocr_det.utils import DetPreProcess, TextDetOutput

        self.detector = detector
        self._glance = DetPreProcess(GLANCE_PX, "max", detector.mean, detector.std)
        self._nothing = TextDetOutput

    def glance(self, image: NDArray[np.uint8]) -> float:
        """The highest text probability of the detector's map of ``image`` at ``GLANCE_PX``."""
        return float(np.max(self.detector.session(self._glance(image))))

    def __call__(self, image: NDArray[np.uint8]) -> Any:
        if self.glance(image) < GLANCE_PROB:
            return self._nothing()
        found = self.detector(image)
        if found.boxes is None or len(found.boxes) == 0:
            return found
        height, width = image.shape[:2]
        keep = [i for i, quad in enumerate(found.boxes) if may_hold_a_line(quad, width, height)]
        if len(keep) == len(found.boxes):
            return found
        found.boxes = found.boxes[keep] if keep else None
        found.scores = [found.scores[i] for i in keep] if keep else None
        return found


def may_hold_a_line(quad: NDArray[np.float32], width: int, height: int) -> bool:
    sides = [float(np.linalg.norm(quad[i] - quad[(i + 1) % 4])) for i in range(4)]
    along, across = max(sides[0], sides[2]), max(sides[1], sides[3])
    aspect = max(along, across) / max(1.0, min(along, across))
    xs, ys = quad[:, 0], quad[:, 1]
    area = float((xs.max() - xs.min()) * (ys.max() - ys.min())) / (width * height)
    return aspect >= MIN_LINE_ASPECT or area <= SHORT_MAX_AREA


def _turned(where: list[float]) -> list[float]:
    x0, y0, x1, y1 = where
    return [round(1 - x1, 4), round(1 - y1, 4), round(1 - x0, 4), round(1 - y0, 4)]
