"""Probe: extend a copy of a built base by builds of N points each, under a given optimizer
config, as ``search/index/edge_build.py`` does for a reused base; report per build the
optimize seconds, the disk peak (the served base and the copy, linked files counted once,
polled every 50 ms) against the copy after, and the segments; then the served base's and the
copy's dense search times (k=64, the serving ``hnsw_ef``, int8 rescored) and recall@10
against an exact search, over encoded bench query texts.

``--segments 1`` is what a build does today (one segment: the added points are merged into
the base, its graph rebuilt); ``--segments 3 --max-segment-kb 200000`` lets qdrant-edge keep
small segments beside the base's (its merge optimizer joins the three smallest when there are
more than ``--segments``, never beyond ``--max-segment-kb``).

Usage (stop any server on that folder first)::

    PYTHONPATH=. python scripts/probe_tiered_base.py <base folder> --builds 6 --points 2000 \
        --segments 3 --max-segment-kb 200000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

from loupe.api.settings import Settings
from loupe.bench.corpus import query_texts
from loupe.bench.ingest import make_pool
from loupe.search.encoders import TextRole
from loupe.search.index.base import SEMANTIC
from loupe.search.index.edge_build import _link_or_copy
from loupe.search.index.edge_shards import add_indexes, load_shard
from loupe.search.index.tuning import HNSW_EF, OVERSAMPLING


def disk(*folders: Path) -> int:
    """Allocated bytes under ``folders``, each inode once (hard links share)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for folder in folders:
        for root, _, files in os.walk(folder):
            for name in files:
                try:
                    st = os.lstat(os.path.join(root, name))
                except FileNotFoundError:
                    continue
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino))
                    total += st.st_blocks * 512
    return total


def build(
    served: Path, copy: Path, config: qe.EdgeConfig, points: int, first_id: int
) -> dict[str, Any]:
    """One build: near-copies of ``points`` stored points upserted into ``copy``, optimized."""
    peak, stop = [0], threading.Event()

    def poll() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], disk(served, copy))
            time.sleep(0.05)

    watcher = threading.Thread(target=poll)
    watcher.start()
    shard = qe.EdgeShard.load(str(copy), config)
    add_indexes(shard)
    rng = np.random.default_rng(first_id)
    start = int(rng.integers(0, 50_000))
    ids: list[qe.PointId] = [
        f"00000000-0000-0000-0000-{i:012x}" for i in range(start, start + points)
    ]
    added = []
    for n, record in enumerate(shard.retrieve(ids, with_payload=True, with_vector=True)):
        stored: Any = record.vector or {}  # named vectors: dense lists and sparse ones
        vectors = {
            k: list(np.asarray(v) + rng.normal(0, 0.01, len(v))) if isinstance(v, list) else v
            for k, v in stored.items()
        }
        added.append(qe.Point(first_id + n, vectors, record.payload))
    for i in range(0, len(added), 256):
        shard.update(qe.UpdateOperation.upsert_points(added[i : i + 256]))
    started = time.perf_counter()
    shard.optimize()
    shard.flush()
    seconds = time.perf_counter() - started
    shard.close()
    stop.set()
    watcher.join()
    after = disk(copy)
    return {
        "points": len(added),
        "optimize_s": round(seconds, 1),
        "peak_mib": peak[0] >> 20,
        "after_mib": after >> 20,
        "peak_over_after": round(peak[0] / after, 2),
        "segments": len(os.listdir(copy / "segments")),
    }


def searched(path: Path, queries: list[list[float]]) -> dict[str, float]:
    shard = load_shard(path, writable=False)
    params = qe.SearchParams(
        hnsw_ef=HNSW_EF,
        quantization=qe.QuantizationSearchParams(rescore=True, oversampling=OVERSAMPLING),
    )
    times: list[float] = []
    found: list[set[str]] = []
    for _ in range(2):  # the second pass is timed
        times, found = [], []
        for q in queries:
            request = qe.QueryRequest(
                query=qe.Query.Nearest(q, using=SEMANTIC), limit=64, params=params
            )
            started = time.perf_counter()
            points = shard.query(request)
            times.append((time.perf_counter() - started) * 1000)
            found.append({str(p.id) for p in points[:10]})
    recall = []
    for q, got in zip(queries, found, strict=True):
        request = qe.QueryRequest(
            query=qe.Query.Nearest(q, using=SEMANTIC),
            limit=10,
            params=qe.SearchParams(exact=True),
        )
        recall.append(len(got & {str(p.id) for p in shard.query(request)}) / 10)
    shard.close()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(float(np.percentile(times, 95)), 2),
        "recall_at_10": round(float(np.mean(recall)), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("--builds", type=int, default=6)
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--segments", type=int, default=1)
    parser.add_argument("--max-segment-kb", type=int, default=None)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--work", type=Path, default=Path("/tmp/loupe-tiered-probe"))
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    copy = args.work / "base"
    shutil.copytree(args.base, copy, copy_function=_link_or_copy)
    config = qe.EdgeConfig(
        sparse_vectors={"concepts": qe.EdgeSparseVectorParams()},
        optimizers=qe.EdgeOptimizersConfig(
            indexing_threshold=1,
            default_segment_number=args.segments,
            max_segment_size=args.max_segment_kb,
        ),
    )
    builds = [
        build(args.base, copy, config, args.points, 20_000_000 + b * args.points)
        for b in range(args.builds)
    ]
    for row in builds:
        print(json.dumps(row))
    encoder = make_pool(Settings()).default
    texts = query_texts(args.queries, seed=9)
    queries = [list(map(float, v)) for v in encoder.encode_texts(texts, role=TextRole.QUERY)]
    report = {"served": searched(args.base, queries), "built": searched(copy, queries)}
    print(json.dumps({"builds": builds, "search": report}, indent=1))
    shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
