"""``loupe bench ingest``: raw encoder throughput vs end-to-end ingestion (files on disk →
searchable points) through the in-process runner and, optionally, one Celery worker on Redis.

Each photo size (``--photo-sizes``: about 0.3 MP, and 1600x1200 as a phone or camera sends) gets
its own folder of photo-like JPEGs. The raw baseline runs the encoder on them with as many threads
as the in-process runner (read + decode + prepare + forward, batch = encode_batch_size), so the
ratio shows what the pipeline costs, not what parallelism adds. Each end-to-end run writes
into a fresh data folder; its clock starts before the folder is planned and stops when the job is
finished *and* the live collection counts every image.

``enricher_sets`` (``--enrichers``, repeatable) measures several ``LOUPE_ENRICHERS`` in the same
run, one after another within each run, so their ratio holds even on a shared machine: each
set's e2e figure is compared with the first set's (put ``none`` first). Every e2e figure also
gets the CPU time the process spent per image (all its threads), and each run records the load
average when it started.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass
from pathlib import Path

from loupe.api.settings import Settings
from loupe.bench.celery_worker import celery_dispatcher
from loupe.bench.images import write_photos
from loupe.bench.report import Report
from loupe.ingest.dispatch import Dispatcher
from loupe.ingest.jobs import FINAL_STATES
from loupe.ingest.service import IngestService
from loupe.ingest.stores import Stores
from loupe.ingest.validate import decode_image
from loupe.search.encoders.pool import EncoderPool

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestParams:
    images: int = 512
    runs: int = 3
    sizes: tuple[str, ...] = ("0.3mp", "1600x1200")  # "0.3mp": mixed ~0.3 MP shapes
    celery: bool | None = None  # None: when Redis answers at redis_url
    redis_url: str | None = None
    runner_threads: int = 3
    timeout_s: float = 600.0
    enricher_sets: tuple[tuple[str, ...], ...] | None = None  # None: the settings' own


def set_name(enrichers: tuple[str, ...] | list[str]) -> str:
    return ",".join(enrichers) or "none"


def make_pool(settings: Settings) -> EncoderPool:
    pool = EncoderPool(
        settings.model,
        device=settings.device,
        batch_size=settings.encode_batch_size,
        wait_ms=settings.batch_wait_ms,
        clip_text_model=settings.clip_text_model,
    )
    pool.default.load()
    return pool


def parse_size(label: str) -> tuple[int, int] | None:
    """``"0.3mp"`` → None (``write_photos``' mixed ~0.3 MP shapes); ``"WxH"`` → (W, H), each
    side 16..10000."""
    if label == "0.3mp":
        return None
    width, sep, height = label.partition("x")
    if not (sep and width.isdigit() and height.isdigit()):
        raise ValueError(f"a photo size is 0.3mp or WIDTHxHEIGHT, not {label!r}")
    if not (16 <= int(width) <= 10_000 and 16 <= int(height) <= 10_000):
        raise ValueError(f"{label!r}: each side 16..10000")
    return int(width), int(height)


def raw_encoder_rate(pool: EncoderPool, paths: list[Path], batch: int, threads: int) -> float:
    """Images/s of read + decode + prepare + forward straight through the encoder, ``batch``
    files at a time on ``threads`` threads (as many as the runner that it is compared with)."""
    encoder = pool.default

    def one_batch(chunk: list[Path]) -> None:
        images = [decode_image(p.read_bytes()) for p in chunk]
        encoder.embed_prepared(encoder.prepare_images(images))

    chunks = [paths[lo : lo + batch] for lo in range(0, len(paths), batch)]
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as workers:
        list(workers.map(one_batch, chunks))
    return len(paths) / (time.perf_counter() - start)


DispatcherFactory = Callable[[Stores, Settings], AbstractContextManager[Dispatcher]]


def _wait_searchable(
    stores: Stores, settings: Settings, job_id: str, expected: int, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = stores.jobs.get(job_id)
        if job.state in FINAL_STATES:
            if job.failed:
                raise RuntimeError(f"{job.failed} items failed: {job.errors[:3]}")
            if stores.index.count(settings.collection_alias) >= expected:
                return
        time.sleep(0.02)
    raise TimeoutError(f"job {job_id} did not finish within {timeout_s:.0f}s")


def end_to_end_rate(
    settings: Settings,
    pool: EncoderPool,
    folder: Path,
    expected: int,
    dispatcher_for: DispatcherFactory,
    timeout_s: float,
) -> tuple[float, float]:
    """Images/s from planning ``folder`` as a bulk job until every image is searchable, and
    the CPU milliseconds this process spent per image meanwhile (enricher models loaded
    before the clock starts)."""
    stores = Stores.open(settings, role="cli", encoders=pool)
    try:
        stores.pipeline.enrichers.load()
        with dispatcher_for(stores, settings) as dispatcher:
            ingest = IngestService(stores, dispatcher=dispatcher, settings=settings)
            start, cpu = time.perf_counter(), time.process_time()
            job = ingest.bulk(str(folder), tags=[], metadata={})
            _wait_searchable(stores, settings, job.id, expected, timeout_s)
            cpu_ms = 1000 * (time.process_time() - cpu) / expected
            return expected / (time.perf_counter() - start), cpu_ms
    finally:
        stores.close()


def in_process(threads: int) -> DispatcherFactory:
    def make(stores: Stores, settings: Settings) -> AbstractContextManager[Dispatcher]:
        from loupe.workers.runner import InProcessRunner

        runner = InProcessRunner(
            stores.pipeline, threads=threads, chunk_size=settings.encode_batch_size
        )
        return closing(runner)

    return make


def redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def run_ingest(base: Settings, params: IngestParams, *, pool: EncoderPool | None = None) -> Report:
    """Measure raw vs end-to-end ingestion ``params.runs`` times per photo size; see the
    module docstring."""
    use_celery = params.celery
    if use_celery is None:
        use_celery = params.redis_url is not None and redis_answers(params.redis_url)
    report = Report(
        "ingest",
        {
            "images": params.images,
            "runs": params.runs,
            "batch": base.encode_batch_size,
            "model": base.model,
            "runner_threads": params.runner_threads,
            "sizes": list(params.sizes),
            "celery": use_celery,
            "worker_threads": base.worker_threads,
            "enrichers": [set_name(s) for s in _sets(base, params)],
        },
    )
    pool = pool or make_pool(base)
    with tempfile.TemporaryDirectory(prefix="loupe-bench-") as tmp:
        for label in params.sizes:
            _measure_size(report, base, params, pool, Path(tmp) / label, label, use_celery)
    report.notes.append(
        f"raw encoder: read + decode + prepare + forward on {params.runner_threads} threads "
        "(the runner's), batch = encode_batch_size; e2e: plan the folder as a bulk job until "
        "the job is done and `count` = images; the enrichers "
        f"({' / '.join(set_name(s) for s in _sets(base, params))}) run in e2e only; "
        "cpu = process CPU time (all threads) per image during e2e"
    )
    if params.celery is None and not use_celery:
        report.notes.append("Celery skipped: no Redis answered (pass --celery --redis-url URL)")
    return report


def _sets(base: Settings, params: IngestParams) -> tuple[tuple[str, ...], ...]:
    return params.enricher_sets or (tuple(base.enrichers),)


def _measure_size(
    report: Report,
    base: Settings,
    params: IngestParams,
    pool: EncoderPool,
    tmp: Path,
    label: str,
    use_celery: bool,
) -> None:
    sets = _sets(base, params)
    raw: list[float] = []
    e2e: dict[str, list[float]] = {set_name(s): [] for s in sets}
    cpu: dict[str, list[float]] = {set_name(s): [] for s in sets}
    celery: list[float] = []
    root = tmp / "roots"
    folder = root / "photos"
    started = time.perf_counter()
    paths = write_photos(folder, params.images, size=parse_size(label))
    report.details[label] = {
        "generate_s": round(time.perf_counter() - started, 2),
        "bytes_per_image": sum(p.stat().st_size for p in paths) // len(paths),
        "loadavg_at_run_start": [],
    }
    batch, threads = base.encode_batch_size, params.runner_threads
    raw_encoder_rate(pool, paths[: batch * threads], batch, threads)  # warm-up: each thread
    for run in range(params.runs):
        report.details[label]["loadavg_at_run_start"].append(round(os.getloadavg()[0], 2))
        raw.append(raw_encoder_rate(pool, paths, batch, threads))
        turn = run % len(sets)  # each set goes first in some run: no set pays for going first
        for number, enrichers in enumerate(sets[turn:] + sets[:turn]):
            name = set_name(enrichers)
            settings = _run_settings(base, tmp / f"run{run}-{number}", root, None)
            settings = settings.model_copy(update={"enrichers": list(enrichers)})
            rate, cpu_ms = end_to_end_rate(
                settings, pool, folder, len(paths), in_process(threads), params.timeout_s
            )
            e2e[name].append(rate)
            cpu[name].append(cpu_ms)
            log.info("%s run %d %s: %.1f img/s, %.0f ms CPU/img", label, run, name, rate, cpu_ms)
        if use_celery and params.redis_url:
            settings = _run_settings(base, tmp / f"celery{run}", root, params.redis_url)
            celery.append(
                end_to_end_rate(
                    settings, pool, folder, len(paths), celery_dispatcher, params.timeout_s
                )[0]
            )
        log.info("%s run %d: raw %.1f img/s", label, run, raw[-1])
    report.add(f"{label}.raw", f"{label} raw encoder ({threads} threads)", "img/s", raw)
    first = f"{label}.e2e"
    for number, enrichers in enumerate(sets):
        name = set_name(enrichers)
        key = first if number == 0 else f"{label}.e2e.{name}"
        baseline = f"{label}.raw" if number == 0 else first
        report.add(key, f"{label} e2e in-process, {name}", "img/s", e2e[name], baseline=baseline)
        report.add(f"{key}.cpu", f"{label} e2e CPU per image, {name}", "ms", cpu[name])
    if celery:
        report.add(
            f"{label}.celery",
            f"{label} e2e celery worker",
            "img/s",
            celery,
            baseline=f"{label}.raw",
        )


def _run_settings(base: Settings, data_dir: Path, root: Path, broker: str | None) -> Settings:
    return base.model_copy(
        update={"data_dir": data_dir, "ingest_roots": [root], "broker_url": broker}
    )
