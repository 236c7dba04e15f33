"""``loupe bench search``, in process: index searches (semantic, tenant-filtered, visual "more
like this") timed beside an exact float32 numpy search over the same vectors, with recall@10.
The HTTP half and the collection build are in ``bench.search``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from loupe.bench.corpus import Built, exact_top, exact_tops, tenant_name
from loupe.bench.report import Report
from loupe.search.index import SEMANTIC, VISUAL
from loupe.search.index.edge_store import EdgeIndex
from loupe.search.query import for_tenant

K = 10


def timed_ms(call: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    started = time.perf_counter()
    call(*args, **kwargs)
    return (time.perf_counter() - started) * 1000.0


def measure_direct(
    report: Report,
    p: str,
    index: EdgeIndex,
    name: str,
    built: Built,
    queries: np.ndarray,
    image_picks: np.ndarray,
    details: dict[str, object],
    *,
    exact: bool,
) -> None:
    """Index searches in-process beside an exact numpy search over the same vectors: one at a
    time over a float32 baseline (its latency reported), all queries at once over a float16
    one (a large collection: recall only)."""
    numpy_ms, index_ms, fetch_ms, recall = [], [], [], []
    tenant_ms: list[float] = []
    tenant_recall: list[float] = []
    batched = built.semantic.dtype != np.float32
    picked = built.visual[image_picks.astype(np.int64)].astype(np.float32)
    semantic_truth = exact_tops(built.semantic, queries, K) if batched else None
    visual_truth = exact_tops(built.visual, picked, K + 1) if batched else None
    for number, vector in enumerate(queries):
        started = time.perf_counter()
        rows = (
            semantic_truth[number]
            if semantic_truth is not None
            else exact_top(built.semantic, vector, K)
        )
        numpy_ms.append((time.perf_counter() - started) * 1000.0)
        truth = {built.ids[int(r)] for r in rows}
        started = time.perf_counter()
        hits = index.search(name, vector, limit=K, exact=exact)
        index_ms.append((time.perf_counter() - started) * 1000.0)
        recall.append(len(truth & {h.id for h in hits}) / K)
        if built.tenants:  # right after the unfiltered one: both see the same machine load
            latency, found = _tenant_search(index, name, built, vector, number, exact=exact)
            tenant_ms.append(latency)
            tenant_recall.append(found)
        fetch_ms.append(
            timed_ms(index.search, name, vector, limit=3 * K + 1, with_vectors=True, exact=exact)
        )
    visual_ms, visual_index_ms, visual_recall = [], [], []
    for number, pick in enumerate(image_picks):
        # "More like this" from a stored photo: its own point is not an answer, so both sides
        # fetch one more and leave it out before recall is counted.
        vector = picked[number]
        own = built.ids[int(built.image_rows[int(pick)])]
        started = time.perf_counter()
        rows = (
            visual_truth[number]
            if visual_truth is not None
            else exact_top(built.visual, vector, K + 1)
        )
        visual_ms.append((time.perf_counter() - started) * 1000.0)
        ranked = [built.ids[int(built.image_rows[r])] for r in rows]
        expected = {i for i in ranked if i != own}
        if len(expected) > K:  # own was not among the K + 1 (ties): keep the best K
            expected = set([i for i in ranked if i != own][:K])
        started = time.perf_counter()
        hits = index.search(name, vector, using=VISUAL, limit=K + 1, exact=exact)
        visual_index_ms.append((time.perf_counter() - started) * 1000.0)
        answered = {h.id for h in hits if h.id != own}
        visual_recall.append(len(expected & answered) / K)
    kind = "exact" if exact else "HNSW"
    if batched:  # the truths were computed for all queries at once: no latency of one
        numpy_ms = visual_ms = []
        report.notes.append(f"{p}: float16 exact baseline, all queries at once: recall only")
    report.add(f"{p}.numpy", f"{p} numpy exact k=10 (semantic)", "ms", numpy_ms)
    report.add(f"{p}.index", f"{p} {kind} k=10 (semantic)", "ms", index_ms, baseline=f"{p}.numpy")
    report.add(
        f"{p}.fetch",
        f"{p} {kind} k=31+vectors (service fetch)",
        "ms",
        fetch_ms,
        baseline=f"{p}.index",
    )
    report.add(f"{p}.numpy_visual", f"{p} numpy exact k=11 (visual)", "ms", visual_ms)
    report.add(
        f"{p}.index_visual",
        f"{p} {kind} k=11 (visual)",
        "ms",
        visual_index_ms,
        baseline=f"{p}.numpy_visual",
    )
    report.add(f"{p}.recall", f"{p} recall@10 semantic (mean)", "", [float(np.mean(recall))])
    if built.tenants:
        label = f"{p} {kind} k=10 (semantic), 1 of {built.tenants} tenants"
        report.add(f"{p}.index_tenant", label, "ms", tenant_ms, baseline=f"{p}.index")
        report.add(
            f"{p}.recall_tenant",
            f"{p} recall@10 semantic within the tenant (mean)",
            "",
            [float(np.mean(tenant_recall))],
        )
    report.add(
        f"{p}.recall_visual",
        f"{p} recall@10 visual, query point left out (mean)",
        "",
        [float(np.mean(visual_recall))],
    )
    details["recall_min"] = min(recall)
    details["using"] = [SEMANTIC, VISUAL]


def _tenant_search(
    index: EdgeIndex, name: str, built: Built, vector: np.ndarray, number: int, *, exact: bool
) -> tuple[float, float]:
    """One search confined to tenant ``number % tenants``: its latency (ms) and its recall@10
    against an exact search over that tenant's rows."""
    tenant = number % built.tenants
    rows = np.arange(tenant, len(built.ids), built.tenants)
    truth = {built.ids[int(rows[r])] for r in exact_top(built.semantic[rows], vector, K)}
    flt = for_tenant(None, tenant_name(tenant))
    started = time.perf_counter()
    hits = index.search(name, vector, flt=flt, limit=K, exact=exact)
    latency = (time.perf_counter() - started) * 1000.0
    return latency, len(truth & {h.id for h in hits}) / K
