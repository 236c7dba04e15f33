"""Measure EdgeIndex: upsert points/s, search p50 exact vs HNSW, optimize time (prints JSON).

Usage: PYTHONPATH=. python -m loupe.bench.edge_index [n] [dim] [visual_dim]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid

import numpy as np

from loupe.search.index.base import SEMANTIC, VISUAL, Point
from loupe.search.index.edge_store import EdgeIndex


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
        result = {
            "points": n,
            "dims": [dim, visual_dim],
            "upsert_points_per_s": round(n / upsert_s),
            "search_p50_ms_before_optimize": round(before, 2),
            "optimize_s": round(optimize_s, 1),
            "search_p50_ms_exact": round(p50(exact=True), 2),
            "search_p50_ms_hnsw": round(p50(exact=False), 2),
        }
        index.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
