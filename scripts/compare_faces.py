"""The face enricher against the Haar cascade it replaced, on the same photos: CPU per photo on
one thread and what each finds, so a face detector change can be checked for lost faces.

Photos: ``loupe bench ingest``'s 1600x1200 photo-like JPEGs decoded as ingestion decodes them
(``--images``), scikit-image's named photos, the sample photos, and every WebP picture in
GCompris's resource bundles (Debian ``gcompris-qt-data``: animals, monuments, tools, paintings,
drawings). Composites: the astronaut's head (a photo) and Louis Braille's portrait (a painting)
pasted on ten GCompris photos (monuments, tools) with the face 20-52 px wide at 256 px, where
the face is known.

The Haar side is ``haarcascade_frontalface_alt2`` as the faces enricher ran it until 30 Nov 2026
(256 px grey, scaleFactor 1.25, minNeighbors 5, smallest face max(20 px, 6 % of the shorter side)).

Usage: PYTHONPATH=. python scripts/compare_faces.py [--images 128] [--json out.json]
(BENCHMARKS.md, "Faces: BlazeFace instead of the Haar cascade".)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from loupe.bench.evaluation.gcompris import RCC_DIR, read_rcc
from loupe.bench.images import photo_jpeg, sample_photos
from loupe.ingest.enrich.base import Frame, box
from loupe.ingest.enrich.faces import FaceEnricher
from loupe.ingest.validate import decode_image

NAMED_SKIMAGE = ("astronaut", "chelsea", "coffee", "rocket", "page", "immunohistochemistry")
FACE_SIZES = (20, 24, 28, 32, 40, 52)  # face widths at 256 px on the longest side
HEAD = (102, 0, 358, 256)  # the astronaut's head in scikit-image's photo
FACE_IN_HEAD = (0.26, 0.26, 0.69, 0.68)

Detector = Callable[[Frame], list[list[float]]]


def photos(count: int) -> dict[str, Image.Image]:
    import skimage.data

    found = {f"bench{i:03d}": decode_image(photo_jpeg(i, (1600, 1200))) for i in range(count)}
    named = {n: Image.fromarray(getattr(skimage.data, n)()) for n in NAMED_SKIMAGE}
    named |= {f"sample:{stem}": image for stem, image in sample_photos().items()}
    for key, image in named.items():
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="JPEG", quality=90)
        found[key] = decode_image(buffer.getvalue())
    seen: set[str] = set()
    for bundle in sorted(RCC_DIR.glob("*.rcc")):
        for name, blob in read_rcc(bundle.read_bytes()):
            digest = hashlib.sha256(blob).hexdigest()
            if name.endswith(".webp") and digest not in seen:
                seen.add(digest)
                found[f"gcompris:{bundle.stem}:{name.rsplit('/', 1)[-1]}"] = decode_image(blob)
    return found


def haar() -> Detector:
    import cv2

    cascade = cv2.CascadeClassifier(
        str(Path(cv2.__file__).parent / "data" / "haarcascade_frontalface_alt2.xml")
    )

    def detect(frame: Frame) -> list[list[float]]:
        gray = frame.small(256, gray=True)
        height, width = gray.shape[:2]
        side = max(20, int(min(width, height) * 0.06))
        found = cascade.detectMultiScale(
            gray, scaleFactor=1.25, minNeighbors=5, minSize=(side, side)
        )
        return [
            box(x, y, x + w, y + h, width=width, height=height)
            for x, y, w, h in (tuple(int(v) for v in f) for f in found)
        ]

    return detect


def blazeface() -> Detector:
    enricher = FaceEnricher()
    enricher.load()
    return lambda frame: list(enricher(frame)["face_boxes"])


def iou(a: list[float], b: list[float]) -> float:
    wide = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    tall = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = wide * tall
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def composites(found: dict[str, Image.Image]) -> list[tuple[str, int, Image.Image, list[float]]]:
    """(background, face px, image, where the face is) for each background, face and size."""
    backgrounds = [k for k in found if ":explore_monuments:" in k or ":categorization:" in k]
    louis = next(k for k in found if k.endswith(":louis.webp"))
    heads = {  # a photo and a painted portrait, with where the face is in each
        "astronaut": (found["astronaut"].crop(HEAD), FACE_IN_HEAD),
        "louis-braille": (found[louis], (0.35, 0.25, 0.67, 0.57)),
    }
    rng = random.Random(0)
    made = []
    for background in backgrounds[:10]:
        for source, (head, (x0, y0, x1, y1)) in heads.items():
            for face in FACE_SIZES:
                canvas = found[background].resize((800, 600))
                scale = face * 800 / 256 / ((x1 - x0) * head.width)
                wide, tall = round(head.width * scale), round(head.height * scale)
                left, top = rng.randint(0, 800 - wide), rng.randint(0, 600 - tall)
                canvas.paste(head.resize((wide, tall), Image.Resampling.LANCZOS), (left, top))
                where = [
                    (left + x0 * wide) / 800,
                    (top + y0 * tall) / 600,
                    (left + x1 * wide) / 800,
                    (top + y1 * tall) / 600,
                ]
                made.append((f"{source} on {background}", face, canvas, where))
    return made


def main() -> None:
    import cv2

    cv2.setNumThreads(1)
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--json")
    args = parser.parse_args()
    found = photos(args.images)
    frames = {key: Frame.of(image) for key, image in found.items()}
    made = composites(found)
    report: dict[str, Any] = {"photos": len(frames), "composites": len(made)}
    detectors = {"haar": haar(), "blazeface": blazeface()}
    hits: dict[str, list[bool]] = {}
    for name, detect in detectors.items():
        for frame in list(frames.values())[:16]:
            detect(frame)  # warm-up
        start = time.thread_time()
        boxes = {key: detect(frame) for key, frame in frames.items()}
        cpu = 1000 * (time.thread_time() - start) / len(frames)
        hits[name] = [
            any(iou(b, where) > 0.3 for b in detect(Frame.of(image))) for *_, image, where in made
        ]
        by_size = {
            f: sum(h for h, c in zip(hits[name], made, strict=True) if c[1] == f)
            for f in FACE_SIZES
        }
        report[name] = {
            "cpu_ms_per_photo": round(cpu, 2),
            "faces": sum(map(len, boxes.values())),
            "photos_with_faces": sum(map(bool, boxes.values())),
            "composite_faces_found": sum(hits[name]),
            "composite_faces_found_by_px": by_size,
            "boxes": {key: value for key, value in boxes.items() if value},
        }
        print(name, {k: v for k, v in report[name].items() if k != "boxes"}, flush=True)
    old, new = report["haar"]["boxes"], report["blazeface"]["boxes"]
    report["haar_faces_missed"] = [
        key
        for key, value in old.items()
        for b in value
        if not any(iou(b, c) > 0.3 for c in new.get(key, []))
    ]
    report["haar_composites_missed"] = [
        [c[0], c[1]]
        for h, n, c in zip(hits["haar"], hits["blazeface"], made, strict=True)
        if h and not n
    ]
    report["loadavg"] = os.getloadavg()
    print(
        "Haar faces missed:",
        report["haar_faces_missed"],
        "composites:",
        report["haar_composites_missed"],
    )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
