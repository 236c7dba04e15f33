"""``loupe bench``: each subcommand runs on tiny sizes and writes a JSON report with the expected
keys (behaviour only: no assertion on any timing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from loupe.api.commands.bench import command

REPORT_KEYS = {
    "bench",
    "date",
    "duration_s",
    "machine",
    "params",
    "metrics",
    "ratios",
    "details",
    "notes",
}
METRIC_KEYS = {"label", "unit", "median", "p95", "p99", "max", "n", "baseline", "values"}


def run(args: list[str], out: Path, *, every_metric_measured: bool = True) -> dict[str, Any]:
    result = CliRunner().invoke(command, [*args, "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    report: dict[str, Any] = json.loads(out.read_text())
    assert set(report) == REPORT_KEYS
    for metric in report["metrics"].values():
        assert set(metric) == METRIC_KEYS
        assert metric["n"] >= 1 or not every_metric_measured
    return report


def test_group_has_the_seven_benchmarks() -> None:
    assert command.name == "bench"
    expected = {"ingest", "search", "load", "serve", "relevance", "browse", "all"}
    assert set(command.commands) == expected


@pytest.mark.slow
def test_relevance_reports_false_alarms_catches_and_match_precision(tmp_path: Path) -> None:
    report = run(["relevance", "--per-class", "1"], tmp_path / "relevance.json")
    collections = ("samples", "samples+mnist", "gcompris")
    per_collection = {
        f"{half}.{n}" for half in ("tune", "held") for n in ("false_alarm", "catch")
    } | {"match_precision", "strong_precision", "photo.catch", "photo.false_alarm"}
    per_collection |= {"similar.false_alarm"}
    expected = {f"{c}.{n}" for c in collections for n in per_collection}
    expected |= {
        f"all.{h}.{lang}.{n}"
        for h in ("tune", "held")
        for lang in ("en", "zh")
        for n in ("false_alarm", "catch")
    }
    assert set(report["metrics"]) == expected
    samples = report["details"]["samples"]
    assert samples["photos"] == 19
    assert report["details"]["samples+mnist"]["photos"] == 19 + 2 * 10
    for half in ("tune.en", "held.en", "tune.zh", "held.zh"):
        part = samples[half]
        assert part["false_alarms"] <= part["answered"] and part["caught"] <= part["nonsense"]
    # Far from chance on the real photos (a broken judge lands near 0 or 100 on both).
    metrics = report["metrics"]
    assert metrics["samples.tune.catch"]["median"] > 80
    assert metrics["samples.held.catch"]["median"] > 80
    assert metrics["samples.tune.false_alarm"]["median"] < 50
    assert metrics["samples.strong_precision"]["median"] > 80


@pytest.mark.slow
@pytest.mark.timeout(600)  # a real server, four bulk jobs of 1600x1200 JPEGs and a build
def test_serve_measures_idle_ingest_and_a_build(tmp_path: Path) -> None:
    args = ["serve", "--size", "1000", "--bulk-images", "32", "--idle-queries", "10"]
    report = run([*args, "--clients", "2"], tmp_path / "serve.json")
    metrics = report["metrics"]
    expected = {"idle", "idle_n", "rate_alone", "ingest_1", "ingest", "rate_searched", "build"}
    assert expected | {"build_s", "disk"} <= set(metrics), report["notes"]
    assert {"healthz_idle", "healthz_ingest", "healthz_build"} <= set(metrics)
    assert metrics["idle"]["n"] == 10 and metrics["idle_n"]["n"] >= 10
    # each phase against the idle figure for the same number of clients
    assert metrics["ingest"]["baseline"] == "idle_n" and metrics["ingest_1"]["baseline"] == "idle"
    assert report["details"]["points"] == 1000 + 3 * 32 + 8  # three jobs and the warm-up
    assert report["details"]["index"]["pending"] == 0  # the build merged both jobs
