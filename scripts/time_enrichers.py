"""Each enricher alone on the same frames: CPU milliseconds per image on one thread (OpenCV's
own pool off, as in ingestion), with what each found, so a speed change can be checked for
lost detections on the same photos.

The frames are ``loupe bench ingest``'s photo-like JPEGs (``--size``, default 1600x1200),
decoded as ingestion decodes them (draft, 448 px asked: 800x600 for 1600x1200), plus, with
``--named``, scikit-image's and the gallery's named photos.

Usage: PYTHONPATH=. python scripts/time_enrichers.py [--images 64] [--enrichers ocr,faces,...]
    [--repeat 2] [--json out.json]
(BENCHMARKS.md, "Ingestion with enrichers (issue #15)"; ``objects`` needs ``loupe[objects]``.)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
from typing import Any

from PIL import Image

from loupe.bench.images import photo_jpeg, sample_photos
from loupe.ingest.enrich.base import Frame
from loupe.ingest.enrich.runner import build_enrichers
from loupe.ingest.validate import decode_image

NAMED_SKIMAGE = ("astronaut", "chelsea", "coffee", "rocket", "page", "immunohistochemistry")


def frames(count: int, size: tuple[int, int], *, named: bool) -> dict[str, Image.Image]:
    images = {f"bench{i:03d}": decode_image(photo_jpeg(i, size)) for i in range(count)}
    if named:
        import skimage.data

        for name in NAMED_SKIMAGE:
            raw = Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
            buffer = io.BytesIO()
            raw.save(buffer, format="JPEG", quality=90)
            images[name] = decode_image(buffer.getvalue())
        for stem, photo in sample_photos().items():
            buffer = io.BytesIO()
            photo.save(buffer, format="JPEG", quality=90)
            images[f"sample:{stem}"] = decode_image(buffer.getvalue())
    return images


def found(name: str, fields: dict[str, Any]) -> Any:
    if name == "faces":
        return fields["faces"]
    if name == "objects":
        return fields["object_counts"]
    if name == "ocr":
        return fields["text"]
    return [fields["colours"], fields["night"], fields["bw"]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--size", default="1600x1200")
    parser.add_argument("--enrichers", default="ocr,faces,colour,objects")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--named", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    images = frames(args.images, (width, height), named=args.named)
    names = args.enrichers.split(",")
    enrichers = build_enrichers(names)
    enrichers.load()
    bench = [k for k in images if k.startswith("bench")]
    cpu: dict[str, float] = {}
    start = time.thread_time()
    for _ in range(args.repeat):
        for key in bench:
            Frame.of(images[key]).small(256, gray=True)
    cpu["frame"] = 1000 * (time.thread_time() - start) / (args.repeat * len(bench))
    results: dict[str, dict[str, Any]] = {key: {} for key in images}
    for enricher in enrichers.enrichers:
        for key, image in images.items():  # warm-up and what it finds
            results[key][enricher.name] = found(enricher.name, enricher(Frame.of(image)))
        prepared = [Frame.of(images[key]) for key in bench]
        for frame in prepared:
            enricher(frame)  # each frame's sizes made once, as in the runner
        start = time.thread_time()
        for _ in range(args.repeat):
            for frame in prepared:
                enricher(frame)
        cpu[enricher.name] = 1000 * (time.thread_time() - start) / (args.repeat * len(bench))
    load = os.getloadavg()[0]
    print(json.dumps({"cpu_ms_per_image": {k: round(v, 2) for k, v in cpu.items()}, "load": load}))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"cpu_ms": cpu, "load": load, "found": results}, out, ensure_ascii=False)


if __name__ == "__main__":
    main()
