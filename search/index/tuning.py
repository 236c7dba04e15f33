"""How Loupe builds and searches its HNSW graphs, for both Qdrant adapters.

Measured on the 100k clustered bench set of ``loupe bench search`` (jittered real embeddings,
200 text queries, recall@10 of the semantic vectors against exact float32 numpy search, direct
index searches, idle 2-core machine, 2026-11-29):

================================  ========  ======  ===========
graph / search                    recall@10  p50 ms  optimize()
================================  ========  ======  ===========
float32, m 16, ef_construct 100,   0.857     4.1     (earlier)
  hnsw_ef 256
float32, m 32, ef_construct 200,   0.933     2.5     100 s
  hnsw_ef 256
  ... hnsw_ef 512                  0.978     3.9
  ... hnsw_ef 1024                 0.988     6.4
int8 scalar quantization (q 0.99)  0.985     1.9     42 s
  + rescore, oversampling 2,
  hnsw_ef 512
  ... hnsw_ef 768 (adopted)        0.993     2.3
  ... hnsw_ef 1024                 0.994     2.9
int8, no oversampling, ef 1024     0.908     2.8
================================  ========  ======  ===========

With the USE text tower (512-d, the default since 2026-11-30) the same set and graph settings
gave recall@10 0.965 and 0.978 at ``hnsw_ef`` 768 (two builds; one text cluster the walk never
entered: a query at recall 0.0). On the second build (same day, load ~5, direct searches,
medians of two interleaved passes): ef 1024 0.983 (+0.1 ms), 1536 0.988 (+0.3 ms), **2048
0.998, worst query 0.9 (+0.7 ms: 2.4 ms)**; oversampling 3 or 4 changed nothing. So text
searches walk with ef 2048. The ``visual`` vectors (recall 0.988-0.993 at 768 on the same
sets, and 2.5x the dimensions per distance) keep 768.

The graph is walked over int8 copies of the vectors (kept in RAM: a quarter of the float32
size, on top of it), then ``OVERSAMPLING`` x ``limit`` candidates are rescored with the original
float32 vectors, so returned scores are exact cosines. Collections created before quantization
was adopted keep working: the search parameters are ignored where there is nothing quantized.
"""

from __future__ import annotations

from loupe.search.index.base import VISUAL

HNSW_M = 32
HNSW_EF_CONSTRUCT = 200
# Search breadth (semantic; visual at most HNSW_EF_VISUAL); always at least offset + limit.
HNSW_EF = 2048
HNSW_EF_VISUAL = 768
# int8 scalar quantization: the value range is cut at this quantile of the data.
QUANTILE = 0.99
# Candidates rescored with the float32 vectors, as a multiple of the requested limit.
OVERSAMPLING = 2.0


# Full-scan threshold (KB of vectors; Qdrant's unit: 1 KB ~ one 256-d float32 vector). Qdrant's
# planner scans a filter's points instead of walking the graph when the filter matches fewer
# points than this, and searches a whole segment smaller than this by scan. 20,000 KB is
# ~13,300 points of 384-d (the semantic vectors), ~8,000 of the 1,280-d float16 visual ones.
# Why so high: a tenant is a filter of one tenant's points. At 1,000 KB (666 points) a tenant
# of 10k points in a 100k collection took the filtered graph walk, the walk of the whole graph
# checking each neighbour against the tenant index: 1.06-1.37x an unfiltered search (process
# CPU 1.08x). A scan of the tenant's own points (int8, rescored) costs 0.25-0.3x of it. Probe
# on the 100k bench set (CPU ms, loaded machine; unfiltered ~7.5): filters of 10k / 20k / 30k /
# 50k points took 2.4 / 4.2 / 6.3 / 9.0 by scan, 8.4 / 10.6 / 11.8 / 13.4 by walk
# (BENCHMARKS.md, "Search confined to one tenant").
FULL_SCAN_KB = 20_000


def search_ef(limit: int, offset: int, *, using: str, floor: int = HNSW_EF) -> int:
    """The ``hnsw_ef`` of a search of the ``using`` vectors for ranks ``[offset, offset +
    limit)``."""
    if using == VISUAL:
        floor = min(floor, HNSW_EF_VISUAL)
    return max(floor, limit + offset)
