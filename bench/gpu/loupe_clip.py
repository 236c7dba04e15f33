"""Loupe's own ``clip:`` encoder (``search/encoders/clip.py`` through sentence-transformers) on one
device: what a GPU worker and a GPU query server actually run, not a copy of it.

A random CLIP of ViT-B/32 shape (``bench/clip_weights.py``; ``tiny`` for ``--smoke``) is saved
to a temporary folder and loaded as ``clip:<folder>``, so the weights' dtype (float16 on CUDA),
preprocessing, batching and out-of-memory handling are the production ones. Rows:

* ``clip-prepare``: ``ClipEncoder.prepare_images`` alone (CPU) over photos already decoded by
  Loupe's ingest decode, on one thread and on a thread pool, both ways: ``uint8`` (resize and
  crop, normalised on the device: ``search/encoders/clip_pixels.py``) and ``processor`` (the
  CLIP processor's float32 path, as before);
* ``clip-forward``: ``embed_prepared`` alone (the forward pass on the device), per batch size;
* ``clip-images``: ``encode_images`` end to end on decoded photos, prepare on ``workers``
  threads overlapping the forward pass, as the ingest runner's threads do;
* ``clip-text``: one query at a time (a search request's latency: p50/p95 ms) and batches.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image

from loupe.bench.clip_weights import save_random_clip, save_vit_b_32
from loupe.bench.gpu.models import sync
from loupe.ingest.validate import decode_image

QUERIES = (
    "a red car at night",
    "a cute cat on a sofa",
    "people on a beach at sunset",
    "a street sign that says Main Street",
    "一只可爱的猫咪",
    "雪地里的北极熊",
    "a bowl of fruit on a wooden table",
    "an astronaut in a white suit",
)


def _rate(count: int, run: Callable[[], object], device: str, runs: int) -> dict[str, Any]:
    """Median img/s of ``runs`` timed calls after one warm-up."""
    run()
    sync(device)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        sync(device)
        times.append(time.perf_counter() - began)
    median = statistics.median(times)
    return {"img_per_s": count / median, "median_s": median, "runs_s": times}


def _prepare_parallel(encoder: Any, images: Sequence[Image.Image], workers: int) -> None:
    chunks = [images[i : i + 16] for i in range(0, len(images), 16)]
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(encoder.prepare_images, chunks))


def _encode_overlapped(
    encoder: Any, images: Sequence[Image.Image], *, batch: int, workers: int
) -> None:
    """Prepare batch i+1.. on threads while batch i runs forward (the ingest runner's overlap)."""
    chunks = [images[i : i + batch] for i in range(0, len(images), batch)]
    with ThreadPoolExecutor(workers) as pool:
        for prepared in pool.map(encoder.prepare_images, chunks):
            encoder.embed_prepared(prepared)


def bench_loupe_clip(
    *,
    jpegs: Sequence[bytes],
    device: str,
    smoke: bool,
    batches: Sequence[int],
    workers: int,
    runs: int,
    add: Callable[[dict[str, Any]], None],
) -> None:
    """Time Loupe's ClipEncoder on ``device`` and ``add`` one row per figure."""
    from loupe.search.encoders.clip import ClipEncoder

    model = "tiny" if smoke else "ViT-B/32"
    # Loupe's ingest decode: upright RGB, JPEG draft-downscaled towards the model's input size.
    size = 32 if smoke else 224
    images = [decode_image(blob, draft_size=size) for blob in jpegs]
    base = {"model": model, "dtype": "fp16" if device.startswith("cuda") else "fp32"}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "clip"
        if smoke:
            save_random_clip(folder)
        else:
            save_vit_b_32(folder)
        encoders = {
            pixels: ClipEncoder(
                str(folder), device=device, batch_size=max(batches), uint8_pixels=pixels == "uint8"
            )
            for pixels in ("uint8", "processor")
        }
        for built in encoders.values():
            built.load()
    for pixels, encoder in encoders.items():
        row_base = {**base, "preprocess": pixels}
        one = _rate(len(images), partial(encoder.prepare_images, images), device, runs)
        add({"section": "clip-prepare", **row_base, "pool": "1 thread", **one})
        many = _rate(
            len(images), partial(_prepare_parallel, encoder, images, workers), device, runs
        )
        add({"section": "clip-prepare", **row_base, "pool": f"{workers} threads", **many})
        for batch in batches:
            prepared = encoder.prepare_images(images[:batch])
            row = _rate(prepared.count, partial(encoder.embed_prepared, prepared), device, runs)
            add({"section": "clip-forward", **row_base, "batch": prepared.count, **row})
        batch = max(batches)
        whole = _rate(
            len(images),
            partial(_encode_overlapped, encoder, images, batch=batch, workers=workers),
            device,
            runs,
        )
        pool = f"{workers} threads"
        add({"section": "clip-images", **row_base, "batch": batch, "pool": pool, **whole})

    encoder = encoders["uint8"]
    texts = [f"{query} {index}" for index in range(25) for query in QUERIES]
    encoder.encode_texts(texts[:8])
    latencies = []
    for text in texts:
        began = time.perf_counter()
        encoder.encode_texts([text])
        latencies.append((time.perf_counter() - began) * 1000)
    latencies.sort()
    add(
        {
            "section": "clip-text",
            **base,
            "batch": 1,
            "p50_ms": statistics.median(latencies),
            "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
            "img_per_s": 1000 / statistics.median(latencies),
            "unit": "texts/s (1 at a time)",
        }
    )
    row = _rate(len(texts), lambda: encoder.encode_texts(texts), device, runs)
    add({"section": "clip-text", **base, "batch": len(texts), "unit": "texts/s", **row})
