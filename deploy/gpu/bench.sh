#!/usr/bin/env bash
# CLIP throughput on one GPU (see gpu_bench.py). Needs only python3 with torch, transformers,
# numpy and Pillow; downloads nothing. Results: markdown on stdout, JSON in $OUT/gpu-bench.json
# (or ./gpu-bench.json). Extra arguments go to gpu_bench.py, e.g. `--smoke`, `--compile`,
# `--models ViT-B/32 --dtypes bf16,fp16`.
set -euo pipefail
cd "$(dirname "$0")/../.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PYTHON="${PYTHON:-python3}"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv >&2 || true
fi
exec "$PYTHON" deploy/gpu/gpu_bench.py "$@"
