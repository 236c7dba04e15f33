"""Memory of a ``loupe serve`` tree before, right after and a while after one bulk job: the PSS
of the server and of each process it started, so a job's leftovers show per process.

    python -m loupe.bench.job_memory [--photos 400] [--after 90] [--out FILE]

It starts ``loupe serve`` on a fresh data dir (``bench.server.child_server``), uploads
``--photos`` distinct 1600x1200 JPEGs with ``loupe ingest --wait``, and prints the tree's PSS
idle, right after the job and ``--after`` seconds later.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TypedDict

import click

from loupe.bench.images import write_photos
from loupe.bench.load import process_tree, pss_kib
from loupe.bench.server import child_server

CLI = "from loupe.api.cli import main; main()"


class Process(TypedDict):
    pid: int
    role: str  # server, child (an ingestion process or base host), other
    pss_mib: int


class Snapshot(TypedDict):
    total_mib: int
    processes: list[Process]


def snapshot(pid: int) -> Snapshot:
    rows: list[Process] = []
    total = 0
    for member in process_tree(pid):
        kib = pss_kib(member)
        if kib is None:
            continue
        cmd = Path(f"/proc/{member}/cmdline").read_text().replace("\0", " ")
        role = "server" if member == pid else "child" if "spawn_main" in cmd else "other"
        mib = round(kib / 1024)
        rows.append({"pid": member, "role": role, "pss_mib": mib})
        total += mib
    return {"total_mib": total, "processes": rows}


@click.command()
@click.option("--photos", default=400, show_default=True)
@click.option("--after", "after_s", default=90.0, show_default=True)
@click.option("--out", type=click.Path(path_type=Path))
def main(photos: int, after_s: float, out: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="loupe-job-memory-") as tmp:
        folder = Path(tmp) / "photos"
        write_photos(folder, photos, seed=7, size=(1600, 1200))
        (Path(tmp) / "roots").mkdir()
        with child_server(Path(tmp) / "data", Path(tmp) / "roots") as (url, pid):
            time.sleep(20)  # the ingestion processes load their models
            report: dict[str, object] = {"photos": photos, "idle": snapshot(pid)}
            started = time.monotonic()
            subprocess.run(
                [sys.executable, "-c", CLI, "ingest", str(folder), "--wait", "--url", url],
                check=True,
                capture_output=True,
            )
            report["job_s"] = round(time.monotonic() - started, 1)
            report["after_job"] = snapshot(pid)
            time.sleep(after_s)
            report[f"after_{after_s:g}_s"] = snapshot(pid)
    text = json.dumps(report, indent=2)
    click.echo(text)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
