"""Measure EdgeIndex: upsert points/s, search p50 exact vs HNSW, build time (in its child
process), recall@10 of HNSW against exact search, and the memory a fresh process adds per point
when it opens the built index and searches it: the PSS of it and its base host (prints JSON).

Usage: PYTHONPATH=. python -m loupe.bench.edge_index [n] [dim] [visual_dim]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from loupe.bench.report import disk_bytes
from loupe.search.index.base import SEMANTIC, VISUAL, Point
from loupe.search.index.edge_store import EdgeIndex

# A fresh process: memory (PSS, MiB) of it and every process it starts (the built base's host
# process included) before opening, then after opening the index and 300 searches.
PROBE = """
import json, os, sys
import numpy as np
from loupe.bench.load import rss_mb
from loupe.search.index.edge_store import EdgeIndex
before = rss_mb(os.getpid())
index = EdgeIndex(sys.argv[1], auto_optimize=False)
rng = np.random.default_rng(1)
for q in rng.standard_normal((300, int(sys.argv[2]))).astype(np.float32):
    index.search("bench", q, limit=10)
print(json.dumps([before, rss_mb(os.getpid())]))
"""


def _disk_kb(root: str) -> float:
    return disk_bytes(Path(root)) / 1024


def main() -> None:
    n, dim, visual_dim = (
        int(a) for a in (sys.argv[1:] + ["10000", "384", "1280"][len(sys.argv) - 1 :])
    )
    rng = np.random.default_rng(0)
    sem = rng.standard_normal((n, dim)).astype(np.float32)
    vis = rng.standard_normal((n, visual_dim)).astype(np.float32)
    queries = rng.standard_normal((200, dim)).astype(np.float32)
    with tempfile.TemporaryDirectory() as root:
        index = EdgeIndex(root, auto_optimize=False)
        index.create_collection("bench", model_id="bench", dim=dim, visual_dim=visual_dim)
        start = time.perf_counter()
        for lo in range(0, n, 256):
            index.upsert(
                "bench",
                [
                    Point(str(uuid.uuid4()), {SEMANTIC: sem[i], VISUAL: vis[i]}, {"width": i})
                    for i in range(lo, min(n, lo + 256))
                ],
            )
        upsert_s = time.perf_counter() - start

        def p50(exact: bool) -> float:
            times = []
            for q in queries:
                t0 = time.perf_counter()
                index.search("bench", q, limit=10, exact=exact)
                times.append(time.perf_counter() - t0)
            return float(np.median(times) * 1000)

        before = p50(exact=False)
        start = time.perf_counter()
        index.optimize("bench")
        optimize_s = time.perf_counter() - start
        found = 0
        for q in queries:
            exact = {h.id for h in index.search("bench", q, limit=10, exact=True)}
            found += len(exact & {h.id for h in index.search("bench", q, limit=10)})
        recall = found / (10 * len(queries))
        exact_ms, hnsw_ms = p50(exact=True), p50(exact=False)
        index.close()
        rss = json.loads(subprocess.check_output([sys.executable, "-c", PROBE, root, str(dim)]))
        result = {
            "points": n,
            "dims": [dim, visual_dim],
            "upsert_points_per_s": round(n / upsert_s),
            "search_p50_ms_before_optimize": round(before, 2),
            "optimize_s": round(optimize_s, 1),
            "search_p50_ms_exact": round(exact_ms, 2),
            "search_p50_ms_hnsw": round(hnsw_ms, 2),
            "recall_at_10": round(float(recall), 3),
            "memory_mib_before_after_open": [round(rss[0], 1), round(rss[1], 1)],
            "memory_kb_per_point": round((rss[1] - rss[0]) * 1024 / n, 3),
            "disk_kb_per_point": round(_disk_kb(root) / n, 3),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
