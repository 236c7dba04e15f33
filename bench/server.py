"""The real API on a free loopback port, for benchmarks that drive it over HTTP: ``loupe serve``
in a child process (``child_server``)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from loupe.api.settings import Settings
from loupe.ingest.stores import collection_name
from loupe.search.encoders import Encoder
from loupe.search.index.edge_store import EdgeIndex


def live_collection(settings: Settings, encoder: Encoder) -> tuple[EdgeIndex, str]:
    """The embedded store a ``child_server`` over ``settings.data_dir`` will serve: opened here
    (close it before serving), with an empty collection for ``encoder`` behind the live alias."""
    index = EdgeIndex(settings.index_dir, auto_optimize=False)
    name = collection_name(encoder.model_id)
    index.create_collection(
        name, model_id=encoder.model_id, dim=encoder.dim, visual_dim=encoder.visual_dim
    )
    index.set_alias(settings.collection_alias, name)
    return index, name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def child_server(
    data_dir: Path,
    roots: Path,
    *,
    log_level: str = "WARNING",
    log_path: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, int]]:
    """``loupe serve`` in a child process on a free port; yields (url, pid) once ready.

    A separate process, as clients are in real use: their CPU time and the benchmark's own
    objects stay out of the server's GIL, garbage collector and memory. Its log goes to
    ``log_path`` (default: this process's stderr). ``env``: more LOUPE_* settings for it.
    """
    port = free_port()
    repo = Path(__file__).resolve().parents[1]
    child_env = dict(os.environ, LOUPE_DATA_DIR=str(data_dir), LOUPE_PORT=str(port))
    child_env.update(LOUPE_INGEST_ROOTS=str(roots), LOUPE_LOG_LEVEL=log_level, HF_HUB_OFFLINE="1")
    paths = [str(repo), child_env.get("PYTHONPATH")]
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    child_env.pop("LOUPE_BROKER_URL", None)
    child_env.update(env or {})
    code = "from loupe.api.cli import main; main()"
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(log_path.open("ab")) if log_path is not None else None
        child = subprocess.Popen([sys.executable, "-c", code, "serve"], env=child_env, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(child, url)
            yield url, child.pid
        finally:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _wait_ready(child: subprocess.Popen[bytes], url: str, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if child.poll() is not None:
            raise RuntimeError(f"the server exited with {child.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not become ready within {timeout_s:.0f} s")
        time.sleep(0.25)
