"""``loupe bench serve``: search while the server works, as a user sees it.

``loupe serve`` runs in a child process over a collection of ``size`` points (jittered real
embeddings, built as ``bench search`` builds them). The benchmark then measures, in one run:

1. idle: text search latency, one client, nothing else running;
2. a bulk job of ``bulk_images`` 1600x1200 JPEGs (made here from real photos) with no client:
   the ingest rate without searches;
3. a second bulk job of as many other photos while ``clients`` clients search: the ingest rate
   with searches and the search latency during ingestion;
4. the index build those two jobs start (the server's build threshold is set to their sum):
   search latency while a child process builds the new base, and the build's duration.

``/healthz`` is probed every 100 ms throughout. Every text query is distinct (no cache hits)
and only successful answers are counted. Memory (server RSS) and disk per point at the end.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from loupe.api.settings import Settings
from loupe.bench.corpus import query_texts
from loupe.bench.images import write_photos
from loupe.bench.load import prepare_data, rss_mb
from loupe.bench.report import Report, disk_bytes
from loupe.bench.server import child_server
from loupe.search.encoders.pool import EncoderPool

TOKEN = "bench-serve-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FINAL = ("succeeded", "partial", "failed", "cancelled")


@dataclass(frozen=True, slots=True)
class ServeParams:
    size: int = 100_000
    bulk_images: int = 300
    clients: int = 5
    idle_queries: int = 200


@dataclass(slots=True)
class Texts:
    """Distinct query texts, handed out once each."""

    items: list[str]
    next: int = 0

    def take(self) -> str:
        self.next += 1
        return self.items[(self.next - 1) % len(self.items)] + (
            f" {self.next}" if self.next > len(self.items) else ""
        )


@dataclass(slots=True)
class Prober:
    """``/healthz`` every 100 ms in a thread; latencies by phase."""

    url: str
    phase: str = "idle"
    latencies: dict[str, list[float]] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60, headers=AUTH) as client:
            while not self.stop.wait(0.1):
                started = time.perf_counter()
                try:
                    ok = client.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    elapsed = (time.perf_counter() - started) * 1000
                    self.latencies.setdefault(self.phase, []).append(elapsed)


async def _search_until(
    url: str, texts: Texts, clients: int, done: Callable[[httpx.AsyncClient], Any]
) -> list[float]:
    """``clients`` closed-loop clients sending text queries until ``await done(client)``."""
    latencies: list[float] = []
    finished = asyncio.Event()

    async def one(client: httpx.AsyncClient) -> None:
        while not finished.is_set():
            started = time.perf_counter()
            try:
                response = await client.post("/v1/search", json={"text": texts.take()})
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                latencies.append((time.perf_counter() - started) * 1000)

    async def watch(client: httpx.AsyncClient) -> None:
        while not await done(client):
            await asyncio.sleep(0.5)
        finished.set()

    limits = httpx.Limits(max_connections=clients + 1)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits, headers=AUTH) as client:
        await asyncio.gather(watch(client), *(one(client) for _ in range(clients)))
    return latencies


def _job_done(job_id: str) -> Callable[[httpx.AsyncClient], Any]:
    async def done(client: httpx.AsyncClient) -> bool:
        job = (await client.get(f"/v1/jobs/{job_id}")).json()
        return str(job["state"]) in FINAL

    return done


async def _live_index(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get(
        "/v1/admin/collections", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    live: dict[str, Any] = next(c for c in response.json() if c["live"])
    return live


def _build_done(disk: list[float], index_dir: Path) -> Callable[[httpx.AsyncClient], Any]:
    async def done(client: httpx.AsyncClient) -> bool:
        disk.append(_disk_mb(index_dir))
        return not (await _live_index(client))["index"]["build_running"]

    return done


def _disk_mb(folder: Path) -> float:
    return disk_bytes(folder) / 2**20


def _run_job(client: httpx.Client, folder: Path) -> str:
    response = client.post("/v1/jobs", json={"source": {"path": str(folder)}})
    response.raise_for_status()
    return str(response.json()["id"])


def _rate(client: httpx.Client, job_id: str, started: float) -> float:
    job = client.get(f"/v1/jobs/{job_id}").json()
    return float(job["done"]) / (time.perf_counter() - started)


def run_serve(base: Settings, params: ServeParams, *, pool: EncoderPool) -> Report:
    report = Report(
        "serve",
        {
            "size": params.size,
            "bulk_images": params.bulk_images,
            "clients": params.clients,
            "idle_queries": params.idle_queries,
            "photos": "1600x1200 JPEG",
        },
    )
    texts = Texts(query_texts(3000, seed=11))
    with tempfile.TemporaryDirectory(prefix="loupe-bench-serve-") as tmp:
        data, roots = Path(tmp) / "data", Path(tmp) / "roots"
        for name, seed in (("alone", 21), ("searched", 22)):
            write_photos(roots / name, params.bulk_images, seed=seed, size=(1600, 1200))
        prepare_data(base, pool, data, params.size)
        env = {
            "LOUPE_ADMIN_TOKEN": TOKEN,
            "LOUPE_INDEX_BUILD_AFTER": str(2 * params.bulk_images),
        }
        with child_server(data, roots, env=env) as (url, pid):
            _measure(report, url, pid, params, texts, roots, data / "index")
    return report


def _measure(
    report: Report,
    url: str,
    pid: int,
    params: ServeParams,
    texts: Texts,
    roots: Path,
    index_dir: Path,
) -> None:
    prober = Prober(url)
    probe = threading.Thread(target=prober.run, daemon=True)
    probe.start()
    with httpx.Client(base_url=url, timeout=120, headers=AUTH) as client:
        client.post("/v1/search", json={"text": "warm up"})
        idle: list[float] = []
        for _ in range(params.idle_queries):
            started = time.perf_counter()
            if client.post("/v1/search", json={"text": texts.take()}).status_code == 200:
                idle.append((time.perf_counter() - started) * 1000)
        report.add("idle", "search, idle (1 client)", "ms", idle)
        rss_idle = rss_mb(pid)
        prober.phase = "ingest"
        _ingest(report, client, url, params, texts, roots)
        prober.phase = "build"
        _build(report, url, params, texts, index_dir)
        prober.phase = "after"
        _footprint(report, client, pid, rss_idle, index_dir)
    prober.stop.set()
    probe.join()
    for phase, values in prober.latencies.items():
        report.add(f"healthz_{phase}", f"/healthz, {phase}", "ms", values)


def _ingest(
    report: Report, client: httpx.Client, url: str, params: ServeParams, texts: Texts, roots: Path
) -> None:
    started = time.perf_counter()
    job = _run_job(client, roots / "alone")
    asyncio.run(_search_until(url, texts, 0, _job_done(job)))
    report.add("rate_alone", "ingest rate, no searches", "img/s", [_rate(client, job, started)])
    started = time.perf_counter()
    job = _run_job(client, roots / "searched")
    during = asyncio.run(_search_until(url, texts, params.clients, _job_done(job)))
    rate = _rate(client, job, started)
    label = f"search during ingest ({params.clients} clients)"
    report.add("ingest", label, "ms", during, baseline="idle")
    label = f"ingest rate, {params.clients} clients searching"
    report.add("rate_searched", label, "img/s", [rate], baseline="rate_alone")


def _build(report: Report, url: str, params: ServeParams, texts: Texts, index_dir: Path) -> None:
    disk: list[float] = []
    if asyncio.run(_wait_build(url)) is None:
        report.notes.append("no index build started after the two jobs")
        return
    searches = _search_until(url, texts, params.clients, _build_done(disk, index_dir))
    label = f"search during an index build ({params.clients} clients)"
    report.add("build", label, "ms", asyncio.run(searches), baseline="idle")
    report.details["disk_peak_mib"] = round(max(disk), 1) if disk else None


def _footprint(
    report: Report, client: httpx.Client, pid: int, rss_idle: float | None, index_dir: Path
) -> None:
    live = next(c for c in client.get("/v1/admin/collections").json() if c["live"])
    points = int(live["points"])
    if live["index"]["last_build_s"] is not None:
        took = float(live["index"]["last_build_s"])
        report.add("build_s", "index build (child process)", "s", [took])
    rss = rss_mb(pid)
    steady = _disk_mb(index_dir)
    if rss is not None and rss_idle is not None:
        report.add("rss_idle", "server RSS, idle", "MiB", [rss_idle])
        report.add("rss_end", "server RSS, after ingest + build", "MiB", [rss], baseline="rss_idle")
        report.details["rss_kb_per_point"] = round(rss * 1024 / points, 2)
    report.add("disk", "index on disk, after", "MiB", [steady])
    peak = report.details.get("disk_peak_mib")
    if peak:
        report.add("disk_peak", "index on disk, peak in build", "MiB", [peak], baseline="disk")
    report.details["points"] = points
    report.details["disk_kb_per_point"] = round(steady * 1024 / points, 2)
    report.details["index"] = live["index"]


async def _wait_build(url: str, timeout_s: float = 60.0) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=AUTH) as client:
        while time.monotonic() < deadline:
            live = await _live_index(client)
            if live["index"]["build_running"]:
                return live
            await asyncio.sleep(0.2)
    return None
