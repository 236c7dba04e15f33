"""Memory of a ``loupe serve`` tree before, right after and a while after one bulk job: the PSS
of the server and of each process it started, so a job's leftovers show per process.

    python -m loupe.bench.job_memory [--photos 400] [--after 90] [--out FILE]

It starts ``loupe serve`` on a fresh data dir (port 8123), uploads ``--photos`` distinct
1600x1200 JPEGs with ``loupe ingest --wait``, and prints the tree's PSS idle, right after the
job and ``--after`` seconds later.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TypedDict

import click
import httpx

from loupe.bench.images import write_photos
from loupe.bench.load import process_tree, pss_kib

PORT = 8123


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
        rows.append({"pid": member, "role": role, "pss_mib": round(kib / 1024)})
        total += round(kib / 1024)
    return {"total_mib": total, "processes": rows}


@click.command()
@click.option("--photos", default=400, show_default=True)
@click.option("--after", "after_s", default=90.0, show_default=True)
@click.option("--out", type=click.Path(path_type=Path))
def main(photos: int, after_s: float, out: Path | None) -> None:
    loupe = Path(sys.executable).with_name("loupe")
    with tempfile.TemporaryDirectory(prefix="loupe-job-memory-") as tmp:
        folder = Path(tmp) / "photos"
        write_photos(folder, photos, seed=7, size=(1600, 1200))
        env = {**os.environ, "LOUPE_DATA_DIR": f"{tmp}/data", "LOUPE_PORT": str(PORT)}
        server = subprocess.Popen(
            [str(loupe), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{PORT}"
        try:
            _wait_ready(url)
            time.sleep(20)  # the ingestion processes load their models
            report: dict[str, object] = {"photos": photos, "idle": snapshot(server.pid)}
            started = time.monotonic()
            subprocess.run(
                [str(loupe), "ingest", str(folder), "--wait", "--url", url],
                check=True,
                capture_output=True,
            )
            report["job_s"] = round(time.monotonic() - started, 1)
            report["after_job"] = snapshot(server.pid)
            time.sleep(after_s)
            report[f"after_{after_s:g}_s"] = snapshot(server.pid)
        finally:
            server.terminate()
            server.wait(60)
    text = json.dumps(report, indent=2)
    click.echo(text)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit("loupe serve did not become ready")


if __name__ == "__main__":
    main()
