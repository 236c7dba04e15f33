"""Benchmark reports: per-metric samples, their median/p95/p99, the in-run baseline each figure is
compared with, a rich table and a JSON file (default ``.bench/<name>-<timestamp>.json``)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table


def disk_bytes(folder: Path) -> int:
    """Bytes of disk the files under ``folder`` take (allocated blocks, as ``du`` counts them:
    qdrant-edge preallocates its WAL and mmap files as sparse files of 32 MiB and more, whose
    sizes are far above what they occupy), read while an index may be building: files and
    folders that vanish mid-walk (a build merging or dropping segments) are skipped. A file
    linked more than once (a build's copy of a base links its vectors) counts once."""
    total = 0
    seen: set[tuple[int, int]] = set()
    for parent, _, names in os.walk(folder):  # os.walk ignores folders gone before listing
        for name in names:
            try:
                info = os.stat(os.path.join(parent, name))
            except FileNotFoundError:
                continue
            if info.st_nlink > 1:
                if (info.st_dev, info.st_ino) in seen:
                    continue
                seen.add((info.st_dev, info.st_ino))
            total += info.st_blocks * 512
    return total


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    return float(np.quantile(np.asarray(values, dtype=np.float64), q))


@dataclass(slots=True)
class Metric:
    """One measured figure: ``values`` are per-run figures (throughputs) or per-request samples
    (latencies). ``baseline`` names the metric it is compared with; the ratio is
    ``median / baseline median``."""

    key: str
    label: str
    unit: str
    values: list[float]
    baseline: str | None = None

    @property
    def median(self) -> float:
        return quantile(self.values, 0.5)

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "unit": self.unit,
            "median": _round(self.median),
            "p95": _round(quantile(self.values, 0.95)),
            "p99": _round(quantile(self.values, 0.99)),
            "max": _round(max(self.values)) if self.values else None,
            "n": len(self.values),
            "baseline": self.baseline,
            "values": [_round(v) for v in self.values] if len(self.values) <= 20 else None,
        }


def _round(value: float) -> float | None:
    if value != value:  # NaN
        return None
    return round(value, 3)


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "gpu": None,
    }


@dataclass(slots=True)
class Report:
    """A benchmark run: its parameters, metrics, derived ratios, free-form details and notes."""

    name: str
    params: dict[str, Any]
    metrics: dict[str, Metric] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    machine: dict[str, Any] = field(default_factory=machine)

    def add(
        self, key: str, label: str, unit: str, values: list[float], *, baseline: str | None = None
    ) -> Metric:
        metric = Metric(key, label, unit, list(values), baseline)
        self.metrics[key] = metric
        return metric

    def ratio(self, key: str) -> float | None:
        metric = self.metrics[key]
        base = self.metrics.get(metric.baseline or "")
        if base is None or not base.values or not metric.values or base.median == 0:
            return None
        return metric.median / base.median

    def to_json(self) -> dict[str, Any]:
        ratios = {k: _round(r) for k in self.metrics if (r := self.ratio(k)) is not None}
        return {
            "bench": self.name,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
            "duration_s": round(time.time() - self.started, 1),
            "machine": self.machine,
            "params": self.params,
            "metrics": {k: m.summary() for k, m in self.metrics.items()},
            "ratios": ratios,
            "details": self.details,
            "notes": self.notes,
        }

    def table(self) -> Table:
        table = Table(title=f"loupe bench {self.name}  ({_describe(self.params)})")
        for column in ("metric", "unit", "median", "p95", "max", "n", "vs baseline", "ratio"):
            table.add_column(column, justify="left" if column == "metric" else "right")
        for key, metric in self.metrics.items():
            summary = metric.summary()
            ratio = self.ratio(key)
            table.add_row(
                metric.label,
                metric.unit,
                _fmt(summary["median"]),
                _fmt(summary["p95"]),
                _fmt(summary["max"]),
                str(summary["n"]),
                self.metrics[metric.baseline].label if metric.baseline in self.metrics else "",
                f"{ratio:.2f}x" if ratio is not None else "",
            )
        return table

    def print(self, console: Console | None = None) -> None:
        console = console or Console()
        console.print(self.table())
        for note in self.notes:
            console.print(f"  - {note}")

    def write(self, out: Path | None) -> Path:
        """Write the JSON report to ``out`` or ``.bench/<name>-<timestamp>.json``."""
        if out is None:
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.started))
            out = Path(".bench") / f"{self.name}-{stamp}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
        return out


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return (
        f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}" if value < 10 else f"{value:.1f}"
    )


def _describe(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items() if not isinstance(v, (dict, list)))
