"""``bench.job_memory.snapshot``: the PSS of a process tree, each process with its role."""

from __future__ import annotations

import multiprocessing
import os

from loupe.bench.job_memory import snapshot


def _sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


def test_a_snapshot_counts_the_process_and_its_children() -> None:
    alone = snapshot(os.getpid())
    assert alone["processes"][0]["role"] == "server"
    child = multiprocessing.get_context("spawn").Process(target=_sleep, args=(30,))
    child.start()
    try:
        both = snapshot(os.getpid())
        pids = [p["pid"] for p in both["processes"]]
        assert child.pid in pids
        assert {"server", "child"} <= {p["role"] for p in both["processes"]}
        assert both["total_mib"] == sum(p["pss_mib"] for p in both["processes"])
        assert both["total_mib"] > alone["total_mib"] > 0
    finally:
        child.kill()
        child.join()
