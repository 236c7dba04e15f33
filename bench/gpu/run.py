"""CLIP image-encoder throughput on one GPU: forward-only img/s and end-to-end img/s from JPEGs.

Runs Loupe's own decode and test photos (``loupe.bench.gpu.pipeline``), so it needs Loupe
importable: installed, or the repo root on ``PYTHONPATH`` (``deploy/gpu/bench.sh`` does that). No
network, no weights: the models are randomly initialised at ViT-B/32 and ViT-L/14 sizes, which
cost the same FLOPs as trained ones. Prints a markdown table and writes JSON to ``--out``, else
``$OUT/gpu-bench.json`` when ``$OUT`` is set, else ``./gpu-bench.json``. ``--smoke`` runs tiny
sizes on whatever device there is (CPU included) in a few seconds, to check the program itself.

    deploy/gpu/bench.sh            # full run (GPU); = python3 -m loupe.bench.gpu.run
    deploy/gpu/bench.sh --smoke    # seconds, CPU is fine
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from loupe.bench.gpu.loupe_clip import bench_loupe_clip
from loupe.bench.gpu.models import build_vision_model, dtype_of, make_forward, time_forward
from loupe.bench.gpu.pipeline import decode_only, make_jpegs, run_pipeline, start_pool
from loupe.bench.gpu.report import Report, environment


def bench_encoders(args: argparse.Namespace, device: str, report: Report) -> None:
    import torch

    for model_name in args.models:
        for dtype_name in args.dtypes:
            dtype = dtype_of(dtype_name)
            model = build_vision_model(
                model_name, image_size=args.image_size, device=device, dtype=dtype
            )
            forward = make_forward(model)
            variants = [("eager", forward)]
            if args.compile:
                variants.append(("compile", torch.compile(forward)))
            for mode, run in variants:
                for batch in args.batches:
                    row: dict[str, Any] = {
                        "section": "encoder",
                        "model": model_name,
                        "dtype": dtype_name,
                        "mode": mode,
                        "batch": batch,
                    }
                    try:
                        row |= time_forward(
                            run,
                            batch=batch,
                            image_size=args.image_size,
                            device=device,
                            dtype=dtype,
                            warmup=args.warmup + (2 if mode == "compile" else 0),
                            runs=args.runs,
                        )
                    except torch.cuda.OutOfMemoryError:
                        row["error"] = "out of memory"
                        torch.cuda.empty_cache()
                    except Exception as exc:  # an optional compile must not end the run
                        if mode != "compile":
                            raise
                        row["error"] = f"compile failed: {type(exc).__name__}: {exc}"[:300]
                    report.add(row)
            del model, forward, variants
            if device.startswith("cuda"):
                torch.cuda.empty_cache()


def synthesise(args: argparse.Namespace) -> list[bytes]:
    began = time.perf_counter()
    count = max(
        0 if args.skip_e2e else args.e2e_images, 0 if args.skip_loupe else args.loupe_images
    )
    jpegs = make_jpegs(count, args.jpeg_width, args.jpeg_height, workers_of(args))
    average_kb = sum(map(len, jpegs)) / len(jpegs) / 1024
    print(
        f"synthesised {len(jpegs)} {args.jpeg_width}x{args.jpeg_height} JPEGs "
        f"({average_kb:.0f} KB avg) in {time.perf_counter() - began:.1f}s",
        file=sys.stderr,
    )
    return jpegs


def workers_of(args: argparse.Namespace) -> int:
    return int(args.workers or os.cpu_count() or 1)


def bench_end_to_end(
    args: argparse.Namespace, device: str, report: Report, jpegs: list[bytes]
) -> None:
    workers = workers_of(args)
    for preprocess in args.preprocess:
        report.add(
            {
                "section": "decode-only",
                "preprocess": preprocess,
                "pool": "thread",
                "workers": workers,
                "img_per_s": decode_only(jpegs, args.image_size, workers, preprocess),
            }
        )
    dtype = dtype_of(args.e2e_dtype)
    for model_name in args.e2e_models:
        model = build_vision_model(
            model_name, image_size=args.image_size, device=device, dtype=dtype
        )
        forward = make_forward(model)
        for preprocess in args.preprocess:
            for pool_kind in args.pools:
                with start_pool(pool_kind, workers) as pool:
                    common = {
                        "forward": forward,
                        "jpegs": jpegs,
                        "size": args.image_size,
                        "pool": pool,
                        "preprocess": preprocess,
                        "device": device,
                        "dtype": dtype,
                        "batch": args.e2e_batch,
                    }
                    run_pipeline(**common)  # warm-up: workers' imports, kernels, allocator
                    results = [run_pipeline(**common) for _ in range(args.runs)]
                speeds = [result["img_per_s"] for result in results]
                report.add(
                    {
                        "section": "end-to-end",
                        "model": model_name,
                        "dtype": args.e2e_dtype,
                        "batch": args.e2e_batch,
                        "preprocess": preprocess,
                        "pool": pool_kind,
                        "workers": workers,
                        "img_per_s": statistics.median(speeds),
                        "runs_img_per_s": speeds,
                        "dim": results[0]["dim"],
                        "unit_norm": results[0]["unit_norm"],
                    }
                )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    def csv(value: str) -> list[str]:
        return [part for part in value.split(",") if part]

    def ints(value: str) -> list[int]:
        return [int(part) for part in csv(value)]

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds, CPU is fine")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--models", type=csv, default=["ViT-B/32", "ViT-L/14"])
    parser.add_argument("--dtypes", type=csv, default=["fp32", "bf16", "fp16"])
    parser.add_argument("--batches", type=ints, default=[64, 256, 1024])
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--skip-encoder", action="store_true")
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--skip-loupe", action="store_true", help="skip Loupe's clip: encoder")
    parser.add_argument("--loupe-images", type=int, default=1024)
    parser.add_argument("--loupe-batches", type=ints, default=[32, 256])
    parser.add_argument("--e2e-images", type=int, default=2000)
    parser.add_argument("--e2e-models", type=csv, default=["ViT-B/32"])
    parser.add_argument("--e2e-dtype", default="fp16")
    parser.add_argument("--e2e-batch", type=int, default=256)
    parser.add_argument("--preprocess", type=csv, default=["fast", "hf"])
    parser.add_argument("--pools", type=csv, default=["thread", "process"])
    parser.add_argument("--workers", type=int, default=0, help="0 = one per CPU")
    parser.add_argument("--jpeg-width", type=int, default=1600)
    parser.add_argument("--jpeg-height", type=int, default=1200)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.smoke:
        args.models, args.e2e_models, args.batches = ["tiny"], ["tiny"], [4, 16]
        args.image_size, args.runs, args.warmup, args.e2e_images = 64, 3, 1, 48
        args.e2e_batch, args.jpeg_width, args.jpeg_height = 16, 320, 240
        args.workers = args.workers or 2
        args.loupe_images, args.loupe_batches = 32, [4, 16]
    return args


def main(argv: list[str] | None = None) -> int:
    import torch

    args = parse_args(argv)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    out = args.out or Path(os.environ.get("OUT") or ".") / "gpu-bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = Report(out, environment(device))
    print(f"device={device} -> {out}", file=sys.stderr)
    if not args.skip_encoder:
        bench_encoders(args, device, report)
    jpegs = synthesise(args) if not (args.skip_e2e and args.skip_loupe) else []
    if not args.skip_loupe:
        try:
            bench_loupe_clip(
                jpegs=jpegs[: args.loupe_images],
                device=device,
                smoke=args.smoke,
                batches=args.loupe_batches,
                workers=workers_of(args),
                runs=args.runs,
                add=report.add,
            )
        except Exception as exc:  # the other sections still report
            report.add({"section": "clip-images", "error": f"{type(exc).__name__}: {exc}"[:300]})
    if not args.skip_e2e:
        bench_end_to_end(args, device, report, jpegs)
    print(report.markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
