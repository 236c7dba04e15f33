from __future__ import annotations

from loupe.bench.browse import BrowseParams, run_browse


def test_browse_bench_times_both_ways_at_each_offset() -> None:
    report = run_browse(BrowseParams(sizes=(300,), runs=2, offset=48))
    for offset in (0, 48):
        assert {f"300.offset{offset}.ordered", f"300.offset{offset}.scan"} <= set(report.metrics)
    assert all(len(m.values) == 2 and min(m.values) > 0 for m in report.metrics.values())
