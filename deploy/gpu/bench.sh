#!/usr/bin/env bash
# CLIP throughput on one GPU: loupe.bench.gpu.run (bench/gpu/run.py) with Loupe's own decode and
# test photos. Needs python3 with Loupe's dependencies (torch, transformers, numpy, Pillow,
# scikit-image); downloads nothing. Results: markdown on stdout, JSON in $OUT/gpu-bench.json (or
# ./gpu-bench.json). Extra arguments go to the program, e.g. `--smoke`, `--compile`,
# `--models ViT-B/32 --dtypes bf16,fp16`.
set -euo pipefail
cd "$(dirname "$0")/../.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PYTHON="${PYTHON:-python3}"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv >&2 || true
fi
exec "$PYTHON" -m loupe.bench.gpu.run "$@"
