"""``loupe bench load``: a bounded loopback load test. N concurrent clients (asyncio + httpx)
send a mix of text queries (drawn with repeats, so the cache sees realistic hits) and
image-by-id queries for ``seconds`` (and at most ``max_requests``), optionally while a bulk job
runs. Reports requests/s answered with 200 (429s, deliberate shedding, are counted beside it,
never in it), latency quantiles of the 200s, answers by status and the server's resident memory
before and after.

Without ``url`` it starts ``loupe serve`` as a child process over a prebuilt collection (a
separate process, so the clients' CPU time is not counted in the server's memory or GIL).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from loupe.api.settings import Settings
from loupe.bench.corpus import build, embed_corpus, query_texts
from loupe.bench.images import write_photos
from loupe.bench.report import Report
from loupe.bench.server import child_server, live_collection
from loupe.search.encoders.pool import EncoderPool


@dataclass(frozen=True, slots=True)
class LoadParams:
    clients: int = 50
    seconds: float = 60.0
    with_bulk_job: bool = False
    url: str | None = None
    pid: int | None = None  # of the server at ``url``, for its memory
    size: int = 10_000  # points in the collection of a server started here
    bulk_images: int = 256
    text_share: float = 0.7
    max_requests: int = 200_000


RSS_EVERY_S = 10.0


@dataclass(slots=True)
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"text": [], "similar": []})
    statuses: Counter[str] = field(default_factory=Counter)
    rss_trace: list[float] = field(default_factory=list)  # server RSS (MiB) while driven


def rss_mb(pid: int) -> float | None:
    """Memory of the server ``pid`` and every process it started (index base hosts, ingestion
    children, builders), in MiB: the sum of their proportional set sizes (PSS: a page shared by
    n processes counts 1/n in each, so shared libraries are not counted n times). None if
    ``pid`` is gone."""
    total, found = 0.0, False
    for member in process_tree(pid):
        kib = pss_kib(member)
        if kib is not None:
            total, found = total + kib, True
    return total / 1024 if found else None


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc's children lists)."""
    members, queue = [], [pid]
    while queue:
        current = queue.pop()
        members.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                queue += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return members


def pss_kib(pid: int) -> float | None:
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("Pss:"):
            return float(line.split()[1])
    return None


def prepare_data(base: Settings, pool: EncoderPool, data_dir: Path, size: int) -> list[str]:
    """A collection of ``size`` jittered real vectors (HNSW built); returns the image ids."""
    settings = base.model_copy(update={"data_dir": data_dir})
    encoder = pool.default
    index, name = live_collection(settings, encoder)
    try:
        built = build(index, name, embed_corpus(encoder, crops=4), size=size, sigma=0.5)
        index.optimize(name)
    finally:
        index.close()
    return [built.ids[int(r)] for r in built.image_rows[:2000]]


def discover_image_ids(client: httpx.Client, texts: list[str]) -> list[str]:
    """Image ids of a running server, found with a few text searches."""
    ids: dict[str, None] = {}
    for text in texts[:20]:
        body = {"text": text, "limit": 50, "filter": {"modality": "image"}}
        response = client.post("/v1/search", json=body)
        if response.status_code == 200:
            ids.update(dict.fromkeys(h["id"] for h in response.json()["hits"]))
    return list(ids)


async def _client_loop(
    client: httpx.AsyncClient,
    rng: random.Random,
    texts: list[str],
    image_ids: list[str],
    share: float,
    stop: tuple[float, list[int]],
    tally: Tally,
) -> None:
    deadline, budget = stop
    while time.monotonic() < deadline and budget[0] > 0:
        budget[0] -= 1
        kind = "text" if rng.random() < share or not image_ids else "similar"
        started = time.perf_counter()
        try:
            if kind == "text":
                body = {"text": rng.choice(texts), "limit": 10}
                response = await client.post("/v1/search", json=body)
            else:
                item = rng.choice(image_ids)
                response = await client.get(f"/v1/items/{item}/similar", params={"limit": 10})
            status = str(response.status_code)
        except httpx.HTTPError as error:
            status = type(error).__name__
        elapsed = (time.perf_counter() - started) * 1000.0
        tally.statuses[status] += 1
        if status == "200":
            tally.latencies[kind].append(elapsed)
        elif status == "429":
            await asyncio.sleep(0.05)


async def _sample_rss(pid: int, stop: tuple[float, list[int]], trace: list[float]) -> None:
    """The server's RSS every ``RSS_EVERY_S`` seconds while the clients run (does it level off?)."""
    deadline, budget = stop
    while time.monotonic() < deadline and budget[0] > 0:
        await asyncio.sleep(min(RSS_EVERY_S, max(0.0, deadline - time.monotonic())))
        rss = rss_mb(pid)
        if rss is not None:
            trace.append(round(rss, 1))


async def drive(
    url: str,
    params: LoadParams,
    texts: list[str],
    image_ids: list[str],
    *,
    pid: int | None = None,
) -> Tally:
    tally = Tally()
    limits = httpx.Limits(max_connections=params.clients, max_keepalive_connections=params.clients)
    stop = (time.monotonic() + params.seconds, [params.max_requests])
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        loops = [
            _client_loop(client, random.Random(i), texts, image_ids, params.text_share, stop, tally)
            for i in range(params.clients)
        ]
        sampler = [_sample_rss(pid, stop, tally.rss_trace)] if pid else []
        await asyncio.gather(*loops, *sampler)
    return tally


def run_load(base: Settings, params: LoadParams, *, pool: EncoderPool | None) -> Report:
    report = Report(
        "load",
        {
            "clients": params.clients,
            "seconds": params.seconds,
            "with_bulk_job": params.with_bulk_job,
            "url": params.url or "(started here)",
            "size": params.size if params.url is None else None,
            "text_share": params.text_share,
        },
    )
    texts = query_texts(400, seed=7)
    with tempfile.TemporaryDirectory(prefix="loupe-bench-load-") as tmp:
        roots = Path(tmp) / "roots"
        bulk = roots / "bulk"
        if params.with_bulk_job:
            write_photos(bulk, params.bulk_images, seed=3)
        if params.url is not None:
            _measure(report, params.url, params.pid, params, texts, None, bulk)
        else:
            if pool is None:
                raise ValueError("a pool is needed to build the collection")
            image_ids = prepare_data(base, pool, Path(tmp) / "data", params.size)
            with child_server(Path(tmp) / "data", roots) as (url, pid):
                _measure(report, url, pid, params, texts, image_ids, bulk)
    return report


def _measure(
    report: Report,
    url: str,
    pid: int | None,
    params: LoadParams,
    texts: list[str],
    image_ids: list[str] | None,
    bulk: Path,
) -> None:
    with httpx.Client(base_url=url, timeout=120) as client:
        if image_ids is None:
            image_ids = discover_image_ids(client, texts)
        client.post("/v1/search", json={"text": texts[0], "limit": 10})  # calibration, warm-up
        rss_start = rss_mb(pid) if pid else None
        job_id = None
        if params.with_bulk_job:
            response = client.post("/v1/jobs", json={"source": {"path": str(bulk)}})
            response.raise_for_status()
            job_id = response.json()["id"]
        started = time.perf_counter()
        tally = asyncio.run(drive(url, params, texts, image_ids, pid=pid))
        elapsed = time.perf_counter() - started
        rss_end = rss_mb(pid) if pid else None
        if job_id is not None:
            job = client.get(f"/v1/jobs/{job_id}").json()
            report.details["bulk_job"] = {k: job[k] for k in ("state", "total", "done", "rate")}
    ok = tally.latencies["text"] + tally.latencies["similar"]
    total = sum(tally.statuses.values())
    shed = tally.statuses.get("429", 0)
    # The headline counts answered searches only; deliberate 429s stand beside it, never in it.
    report.add("rps", "requests/s answered (200)", "req/s", [len(ok) / elapsed])
    report.add("shed_rps", "requests/s shed (429)", "req/s", [shed / elapsed], baseline="rps")
    report.add("all_rps", "requests/s, any status", "req/s", [total / elapsed], baseline="rps")
    report.add("all", "latency, 200s", "ms", ok)
    report.add("text", "latency, text queries", "ms", tally.latencies["text"], baseline="all")
    report.add("similar", "latency, image-by-id", "ms", tally.latencies["similar"], baseline="all")
    if rss_start is not None and rss_end is not None:
        report.add("rss_start", "server memory at start (PSS, tree)", "MiB", [rss_start])
        report.add("rss_end", "server memory at end (PSS)", "MiB", [rss_end], baseline="rss_start")
    if tally.rss_trace:
        report.details[f"rss_mib_every_{RSS_EVERY_S:g}s"] = tally.rss_trace
    report.details["statuses"] = dict(tally.statuses)
    report.details["seconds"] = round(elapsed, 1)
    report.details["p99_ms"] = report.metrics["all"].summary()["p99"]
    if tally.statuses.get("429"):
        report.notes.append(f"{tally.statuses['429']} answers were 429 (deliberate shedding)")
