"""``loupe serve --samples`` as a user starts it: a real process on a free loopback port with an
empty data folder; it says when the sample gallery is ready, and then "a cat" finds the cat."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from loupe.ingest.samples import SAMPLES

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_with_samples_ingests_the_gallery(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOUPE_")}
    env |= {"LOUPE_DATA_DIR": str(tmp_path / "data"), "LOUPE_INGEST_PROCESSES": "1"}
    command = [sys.executable, "-c", "from loupe.api.cli import main; main()", "serve"]
    server = subprocess.Popen(
        [*command, "--samples", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output = server.stdout
    assert output is not None

    def read() -> None:
        for line in output:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while not any("sample gallery ready" in line for line in seen):
            assert server.poll() is None, "".join(seen)
            assert time.monotonic() < deadline, "".join(seen)
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
        assert f"{len(SAMPLES)} photos" in "".join(seen)
        url = f"http://127.0.0.1:{port}"
        body = httpx.post(f"{url}/v1/search", json={"text": "a cat", "limit": 20}).json()
        assert body["hits"][0]["filename"] == "cat.jpg"
        assert {h["filename"] for h in body["hits"]} == {f"{s}.jpg" for s in SAMPLES}
        assert all(h["tags"] == ["sample"] for h in body["hits"])
    finally:
        server.terminate()
        server.wait(timeout=60)
        output.close()
