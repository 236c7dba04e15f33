"""End-to-end image throughput: JPEG bytes → decode/resize on a CPU pool → CLIP forward on the GPU.

Two preprocessing paths:

* ``fast``: Loupe's ingest decode (``ingest.validate.decode_image``: ``Image.draft``, a JPEG
  DCT-domain downscale while decoding), one bicubic resize of the short side, a centre crop,
  uint8 HWC written straight into a pinned ring buffer (threads) or returned (processes); the
  uint8 batch is copied to the device and normalised there.
* ``hf``: Loupe's full decode (``ingest.validate.decode_image``) and transformers' CLIP image
  processor (float32 CHW on the CPU), which is what ``ClipEncoder.prepare_images`` does through
  sentence-transformers.

Decoding for batch i+k overlaps the forward pass of batch i: every decode task is submitted up
front, at most ``ring`` batches are in flight, and the GPU work is queued asynchronously.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import numpy as np
from PIL import Image

from loupe.bench.images import photo_jpeg
from loupe.ingest.validate import decode_image

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def decode_fast(data: bytes, size: int) -> np.ndarray:
    """JPEG → uint8 (size, size, 3): Loupe's ingest decode (draft, upright RGB), bicubic short-side
    resize, centre crop."""
    image = decode_image(data, draft_size=size)
    width, height = image.size
    scale = size / min(width, height)
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    left, top = (new_w - size) // 2, (new_h - size) // 2
    box = (left / scale, top / scale, (left + size) / scale, (top + size) / scale)
    resized = image.resize((size, size), Image.Resampling.BICUBIC, box=box)
    return np.asarray(resized, dtype=np.uint8)


_HF_PROCESSORS: dict[int, Any] = {}


def decode_hf(data: bytes, size: int) -> np.ndarray:
    """JPEG → float32 (3, size, size) through transformers' CLIP image processor."""
    processor = _HF_PROCESSORS.get(size)
    if processor is None:
        import transformers

        cls: Any = getattr(transformers, "CLIPImageProcessorPil", transformers.CLIPImageProcessor)
        processor = cls(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
        _HF_PROCESSORS[size] = processor
    image = decode_image(data, draft_size=None)
    out = processor(images=[image], return_tensors="np")["pixel_values"][0]
    return np.asarray(out, dtype=np.float32)


def _decode_many(kind: str, blobs: Sequence[bytes], size: int) -> list[np.ndarray]:
    decode = decode_fast if kind == "fast" else decode_hf
    return [decode(blob, size) for blob in blobs]


def _decode_into(kind: str, blobs: Sequence[bytes], size: int, out: np.ndarray) -> None:
    for index, array in enumerate(_decode_many(kind, blobs, size)):
        out[index] = array


def run_pipeline(
    *,
    forward: Callable[[Any], Any],
    jpegs: Sequence[bytes],
    size: int,
    batch: int,
    pool: Executor,
    preprocess: str,
    device: str,
    dtype: Any,
    ring: int = 4,
    task_images: int = 16,
) -> dict[str, Any]:
    """Push every JPEG through decode and ``forward``; returns img/s and the vectors' shape.

    ``pool`` is started by the caller (so its start-up is not timed); with a thread pool the
    workers write into the pinned buffers directly, with a process pool they return arrays.
    """
    import torch

    cuda = device.startswith("cuda")
    shape = (batch, size, size, 3) if preprocess == "fast" else (batch, 3, size, size)
    host_dtype = torch.uint8 if preprocess == "fast" else torch.float32
    buffers = [torch.empty(shape, dtype=host_dtype, pin_memory=cuda) for _ in range(ring)]
    mean = torch.tensor(CLIP_MEAN, device=device, dtype=dtype).view(1, 3, 1, 1) * 255
    std = torch.tensor(CLIP_STD, device=device, dtype=dtype).view(1, 3, 1, 1) * 255
    copied: list[Any] = [None] * ring
    starts = list(range(0, len(jpegs), batch))
    threads = isinstance(pool, ThreadPoolExecutor)
    outputs: list[Any] = []
    pending: dict[int, list[tuple[int, Future[Any]]]] = {}

    def submit(batch_index: int) -> None:
        slot = batch_index % ring
        if copied[slot] is not None:
            copied[slot].synchronize()  # the device has finished reading this buffer
        start = starts[batch_index]
        tasks = []
        future: Future[Any]
        for offset in range(0, min(batch, len(jpegs) - start), task_images):
            blobs = jpegs[start + offset : start + min(offset + task_images, batch)]
            if threads:
                view = buffers[slot].numpy()[offset : offset + len(blobs)]
                future = pool.submit(_decode_into, preprocess, blobs, size, view)
            else:
                future = pool.submit(_decode_many, preprocess, blobs, size)
            tasks.append((offset, future))
        pending[batch_index] = tasks

    began = time.perf_counter()
    for batch_index in range(min(ring, len(starts))):
        submit(batch_index)
    for batch_index, start in enumerate(starts):
        slot = batch_index % ring
        count = min(batch, len(jpegs) - start)
        for offset, future in pending.pop(batch_index):
            arrays = future.result()
            if arrays is not None:
                host = buffers[slot].numpy()
                for index, array in enumerate(arrays):
                    host[offset + index] = array
        on_device = buffers[slot][:count].to(device, non_blocking=True)
        if cuda:
            event = torch.cuda.Event()  # type: ignore[no-untyped-call]
            event.record()
            copied[slot] = event
        if preprocess == "fast":
            pixels = (on_device.permute(0, 3, 1, 2).to(dtype) - mean) / std
        else:
            pixels = on_device.to(dtype)
        with torch.inference_mode():
            outputs.append(forward(pixels))
        if batch_index + ring < len(starts):
            submit(batch_index + ring)
    vectors = torch.cat(outputs).float().cpu()
    elapsed = time.perf_counter() - began
    norms = vectors.norm(dim=1)
    return {
        "images": len(jpegs),
        "seconds": elapsed,
        "img_per_s": len(jpegs) / elapsed,
        "dim": int(vectors.shape[1]),
        "unit_norm": bool(torch.allclose(norms, torch.ones_like(norms), atol=1e-2)),
    }


def start_pool(kind: str, workers: int) -> Executor:
    """Threads, or processes started by ``spawn`` (never fork a process that holds CUDA)."""
    if kind == "thread":
        return ThreadPoolExecutor(workers)
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def make_jpegs(count: int, width: int, height: int, workers: int) -> list[bytes]:
    """``count`` photo-like JPEGs of width x height from ``loupe bench``'s own generator."""
    with start_pool("process", workers) as pool:
        return list(pool.map(photo_jpeg, range(count), [(width, height)] * count, chunksize=16))


def decode_only(jpegs: Sequence[bytes], size: int, workers: int, preprocess: str) -> float:
    """CPU-only decode throughput (img/s) on a thread pool: the ceiling for end-to-end."""
    chunks = [jpegs[i : i + 16] for i in range(0, len(jpegs), 16)]
    began = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(_decode_many, [preprocess] * len(chunks), chunks, [size] * len(chunks)):
            pass
    return len(jpegs) / (time.perf_counter() - began)
