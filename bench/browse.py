"""``loupe bench browse``: a page of the library by date, ordered by the index vs sorted in memory.

Per size: an ``EdgeIndex`` collection (the embedded default) of points with random capture dates
over seven years and 4-d vectors (browsing reads no vectors), left as written (no ``optimize``,
like a library being filled). Each run times ``search.browse.browse`` (the index orders by
``taken_at``: ``scroll_ordered`` + the page's payloads) and ``search.browse.scan`` (the previous
way: read up to 20,000 payloads and sort them in memory; wrong past 20,000 items) for the first
page and for the page at ``offset``, back to back, so both see the same machine load.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from loupe.bench.report import Report
from loupe.search.browse import Dated, browse, scan
from loupe.search.index.base import SEMANTIC, Point
from loupe.search.index.edge_store import EdgeIndex

PAGE = 24


@dataclass(frozen=True, slots=True)
class BrowseParams:
    sizes: tuple[int, ...] = (100_000,)
    runs: int = 5
    offset: int = 2_400
    seed: int = 0


def _fill(index: EdgeIndex, size: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    index.create_collection("c", model_id="bench", dim=4, visual_dim=None)
    started = time.perf_counter()
    for start in range(0, size, 5_000):
        count = min(size, start + 5_000) - start
        vectors = rng.standard_normal((count, 4)).astype(np.float32)
        dates = rng.uniform(1.5e9, 1.72e9, count)
        index.upsert(
            "c",
            [
                Point(
                    str(uuid.uuid5(uuid.NAMESPACE_URL, f"browse-{start + n}")),
                    {SEMANTIC: vectors[n]},
                    {"taken_at": float(dates[n]), "created_at": 1.72e9, "tags": ["all"]},
                )
                for n in range(count)
            ],
        )
    return time.perf_counter() - started


def _time_pages(
    index: EdgeIndex, dated: Dated, *, offset: int, runs: int
) -> tuple[list[float], list[float]]:
    """(index-ordered ms, scan ms) of the page at ``offset``, ``runs`` times back to back."""
    ordered, scanned = [], []
    for _ in range(runs):
        started = time.perf_counter()
        browse(index, "c", flt=None, limit=PAGE, offset=offset, dated=dated)
        middle = time.perf_counter()
        scan(index, "c", flt=None, sort="taken_at", descending=True, limit=PAGE, offset=offset)
        ordered.append((middle - started) * 1000.0)
        scanned.append((time.perf_counter() - middle) * 1000.0)
    return ordered, scanned


def run_browse(params: BrowseParams) -> Report:
    """Fill each size and time both ways of browsing (see the module docstring)."""
    report = Report("browse", asdict(params))
    for size in params.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            index = EdgeIndex(Path(tmp))
            fill_s = _fill(index, size, params.seed)
            dated = Dated()
            for offset in (0, params.offset):
                ordered, scanned = _time_pages(index, dated, offset=offset, runs=params.runs)
                key = f"{size}.offset{offset}"
                report.add(f"{key}.scan", f"{size:,} items, page at {offset}: scan", "ms", scanned)
                report.add(
                    f"{key}.ordered",
                    f"{size:,} items, page at {offset}: index-ordered",
                    "ms",
                    ordered,
                    baseline=f"{key}.scan",
                )
            index.close()
            report.details[str(size)] = {"fill_s": round(fill_s, 1)}
    return report
