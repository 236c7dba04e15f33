"""``loupe bench search``: query latency and recall at scale, over HTTP against the real API.

Per size: build an EdgeIndex collection from jittered real embeddings (``bench.corpus``),
time ``optimize()`` (HNSW; it freezes the process), measure direct index searches against an
exact float32 numpy search over the same vectors (latency and recall@10), then serve the real
app (``loupe serve`` in a child process, access log on, as deployed) and time text queries (cache
cold, then warm) and image-by-id queries (``/v1/items/{id}/similar``) beside this process's raw
encoder latency for one query text. The direct searches are in ``bench.search_direct``.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from loupe.api.settings import Settings
from loupe.bench import kept
from loupe.bench.corpus import Corpus, build, embed_corpus, query_texts
from loupe.bench.load import rss_mb
from loupe.bench.report import Report, disk_bytes
from loupe.bench.search_direct import K, measure_direct, timed_ms
from loupe.bench.server import child_server, live_collection
from loupe.search.encoders import TextRole
from loupe.search.encoders.pool import EncoderPool
from loupe.search.index.edge_store import EdgeIndex

log = logging.getLogger(__name__)
BLOCK = 25  # texts per turn when raw-encoder calls and cold HTTP queries alternate
# Above this many points the collection is built in steps of STEP points, as a growing library
# is (the tail never holds more than STEP points: 1M at once took 13.5 GB in this process),
# and the exact baseline is kept in float16 (1M points: 3 GB instead of 6).
STEP = 250_000


@dataclass(frozen=True, slots=True)
class SearchParams:
    sizes: tuple[int, ...] = (10_000, 100_000)
    queries: int = 200
    sigma: float = 0.5
    max_optimize_s: float = 600.0  # skip HNSW (exact search) where the estimate is longer
    crops: int = 12  # augmented crops per sample photo in the base vectors
    seed: int = 0
    tenants: int = 0  # spread the points over this many tenants and time tenant-filtered search
    keep: Path | None = None  # build each size's collection here once and reuse it (bench.kept)


def label_of(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


def run_search(base: Settings, params: SearchParams, *, pool: EncoderPool) -> Report:
    report = Report(
        "search",
        {
            "sizes": ",".join(str(s) for s in params.sizes),
            "queries": params.queries,
            "sigma": params.sigma,
            "model": pool.default.model_id,
            "batch_wait_ms": base.batch_wait_ms,
        },
    )
    encoder = pool.default
    corpus = embed_corpus(encoder, crops=params.crops, seed=params.seed)
    report.details["corpus"] = {
        "images": len(corpus.image_semantic),
        "texts": len(corpus.texts),
        "embed_s": round(corpus.embed_s, 1),
    }
    optimize_rate: float | None = None  # seconds per point at the last size
    with contextlib.ExitStack() as stack:
        if params.keep is not None:
            params.keep.mkdir(parents=True, exist_ok=True)
            tmp = str(params.keep)
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="loupe-bench-search-"))
        for size in params.sizes:
            estimate = None if optimize_rate is None else optimize_rate * size * 1.3
            fits = estimate is None or estimate <= params.max_optimize_s
            hnsw = params.max_optimize_s > 0 and fits
            if not hnsw and params.max_optimize_s == 0:
                report.notes.append(f"{label_of(size)}: HNSW skipped (--max-optimize-s 0)")
            elif not hnsw:
                report.notes.append(
                    f"{label_of(size)}: optimize() estimated at {estimate:.0f}s > "
                    f"{params.max_optimize_s:.0f}s: HNSW skipped, searches are exact"
                )
            seconds = measure_size(report, base, pool, corpus, size, params, Path(tmp), hnsw)
            if seconds is not None:
                optimize_rate = seconds / size
    return report


def measure_size(
    report: Report,
    base: Settings,
    pool: EncoderPool,
    corpus: Corpus,
    size: int,
    params: SearchParams,
    tmp: Path,
    hnsw: bool,
) -> float | None:
    """Measure one collection size; returns the optimize() seconds (None when skipped)."""
    p = label_of(size)
    encoder = pool.default
    settings = base.model_copy(update={"data_dir": tmp / p, "broker_url": None})
    texts = query_texts(params.queries * 2, seed=params.seed + size)
    http_texts, encoder_texts = texts[: params.queries], texts[params.queries :]
    query_vectors = encoder.encode_texts(http_texts, role=TextRole.QUERY)
    inputs = kept.fingerprint(
        size=size,
        sigma=params.sigma,
        seed=params.seed,
        crops=params.crops,
        tenants=params.tenants,
        model_id=encoder.model_id,
    )
    marker = kept.prepare(settings.data_dir, inputs) if params.keep is not None else None
    if marker is not None:  # the collection built before, live again
        index = EdgeIndex(settings.index_dir, auto_optimize=False)
        name = str(marker["collection"])
        index.set_alias(settings.collection_alias, name)
    else:
        index, name = live_collection(settings, encoder)
    large = size > STEP
    built = build(
        None if marker else index,
        name,
        corpus,
        size=size,
        sigma=params.sigma,
        seed=params.seed,
        tenants=params.tenants,
        dtype=np.float16 if large else np.float32,
        every=STEP if large and hnsw else 0,
        at_step=lambda: index.optimize(name),
    )
    details: dict[str, object] = {"reused": marker is not None, "points": size}
    details["baseline"] = str(built.semantic.dtype)
    optimize_s = None
    if marker is not None:
        optimize_s = marker.get("optimize_s")
        details["optimize_s_when_built"] = optimize_s
    else:
        details["upsert_s"] = round(built.upsert_s, 2)
        details["upsert_points_per_s"] = round(size / built.upsert_s)
    if hnsw and marker is None:
        started = time.perf_counter()
        index.optimize(name)
        optimize_s = time.perf_counter() - started + built.steps_s
        if built.steps_s:
            details["build_steps_s"] = round(built.steps_s, 1)
        details["optimize_s"] = round(optimize_s, 1)
        if params.keep is not None:
            kept.mark(settings.data_dir, inputs, collection=name, optimize_s=round(optimize_s, 1))
    rng = np.random.default_rng(params.seed)
    image_picks = rng.choice(len(built.image_rows), size=params.queries, replace=True)
    image_ids = [built.ids[int(built.image_rows[i])] for i in image_picks]
    measure_direct(
        report, p, index, name, built, query_vectors, image_picks, details, exact=not hnsw
    )
    index.close()
    _http(report, p, settings, pool, (http_texts, encoder_texts), image_ids, details)
    report.details[p] = details
    return optimize_s


def _http(
    report: Report,
    p: str,
    settings: Settings,
    pool: EncoderPool,
    texts: tuple[list[str], list[str]],
    image_ids: list[str],
    details: dict[str, object],
) -> None:
    """HTTP round trips against a child server. The raw encoder (this process) and the cold
    queries alternate in blocks of ``BLOCK`` texts, so their ratio holds however loaded the
    machine is. Not one by one: two processes taking turns at the encoder each find its
    weights evicted from the CPU caches by the other (measured at 100k: raw 5.6 -> 9.2 ms,
    HTTP cold 13.7 -> 19.9 ms when alternating per query)."""
    http_texts, encoder_texts = texts
    encoder = pool.default
    log = settings.data_dir.parent / f"server-{p}.log"
    server = child_server(settings.data_dir, settings.data_dir, log_level="INFO", log_path=log)
    with server as (url, pid), httpx.Client(base_url=url, timeout=120) as client:
        first = timed_ms(_post, client, "an unusual first query to calibrate")
        details["first_text_query_ms"] = round(first, 1)  # includes the calibration cut
        raw: list[float] = []
        timed: dict[str, tuple[list[float], list[float]]] = {"cold": ([], []), "warm": ([], [])}
        for phase, (latencies, took) in timed.items():
            for lo in range(0, len(http_texts), BLOCK):
                if phase == "cold":
                    for other in encoder_texts[lo : lo + BLOCK]:
                        raw.append(timed_ms(encoder.encode_texts, [other], role=TextRole.QUERY))
                for text in http_texts[lo : lo + BLOCK]:
                    started = time.perf_counter()
                    took.append(_post(client, text))
                    latencies.append((time.perf_counter() - started) * 1000.0)
        report.add(f"{p}.encoder_text", f"{p} raw encoder, 1 text", "ms", raw)
        for phase, (latencies, took) in timed.items():
            base = f"{p}.encoder_text" if phase == "cold" else f"{p}.fetch"
            report.add(
                f"{p}.http_{phase}", f"{p} HTTP text, cache {phase}", "ms", latencies, baseline=base
            )
            report.add(f"{p}.took_{phase}", f"{p} server took_ms, cache {phase}", "ms", took)
        similar = []
        for item_id in image_ids:
            started = time.perf_counter()
            response = client.get(f"/v1/items/{item_id}/similar", params={"limit": K})
            response.raise_for_status()
            similar.append((time.perf_counter() - started) * 1000.0)
        report.add(
            f"{p}.http_similar",
            f"{p} HTTP image-by-id similar",
            "ms",
            similar,
            baseline=f"{p}.index_visual",
        )
        _footprint(details, pid, settings.index_dir)


def _footprint(details: dict[str, object], pid: int, index_dir: Path) -> None:
    """The serving server's memory (PSS of it and every process it started: base hosts
    included) after the queries above touched the index, and the index's disk blocks."""
    points = int(str(details["points"]))
    memory = rss_mb(pid)
    disk = disk_bytes(index_dir)
    details["server_memory_mib"] = None if memory is None else round(memory, 1)
    details["index_disk_mib"] = round(disk / 2**20, 1)
    if points and memory is not None:
        details["server_memory_kb_per_point"] = round(memory * 1024 / points, 3)
        details["index_disk_kb_per_point"] = round(disk / 1024 / points, 3)


def _post(client: httpx.Client, text: str) -> float:
    response = client.post("/v1/search", json={"text": text, "limit": K})
    response.raise_for_status()
    return float(response.json()["took_ms"])
