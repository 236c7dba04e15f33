"""Built bases are served by host processes (``edge_host``): the serving process never loads
one (qdrant-edge's load holds the GIL), a host that dies is started again, and closing the
index ends every host."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from loupe.search.index import SEMANTIC
from loupe.search.index.edge_store import EdgeIndex
from tests.search.test_index import DIM, VISUAL_DIM, make_points

POINTS = make_points(80, seed=9)


def _hosts(index: EdgeIndex) -> dict[str, int]:
    opened = index._get("c")[1]
    return {name: host.pid() or 0 for name, host in opened.hosts.items()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text()


def test_a_built_base_is_hosted_in_another_process_and_survives_its_death(tmp_path: Path) -> None:
    index = EdgeIndex(tmp_path, auto_optimize=False)
    index.create_collection("c", model_id="m", dim=DIM, visual_dim=VISUAL_DIM)
    index.upsert("c", POINTS)
    assert _hosts(index) == {}  # a tail is opened here
    index.optimize("c")
    hosts = _hosts(index)
    assert len(hosts) == 1
    ((name, pid),) = hosts.items()
    assert name.startswith("base-") and pid != os.getpid() and _alive(pid)
    assert index.search("c", POINTS[3].vectors[SEMANTIC], limit=1)[0].id == POINTS[3].id

    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert index.search("c", POINTS[5].vectors[SEMANTIC], limit=1)[0].id == POINTS[5].id
    restarted = _hosts(index)[name]
    assert restarted != pid and _alive(restarted)
    assert index.count("c") == len(POINTS)

    index.close()
    deadline = time.monotonic() + 10
    while _alive(restarted) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(restarted)


def test_a_swap_starts_the_new_base_host_and_ends_the_old_one(tmp_path: Path) -> None:
    index = EdgeIndex(tmp_path, auto_optimize=False)
    index.create_collection("c", model_id="m", dim=DIM, visual_dim=VISUAL_DIM)
    index.upsert("c", POINTS[:40])
    index.optimize("c")
    ((old_name, old_pid),) = _hosts(index).items()
    index.upsert("c", POINTS[40:])
    index.optimize("c")
    ((new_name, new_pid),) = _hosts(index).items()
    assert new_name != old_name and new_pid != old_pid
    assert not _alive(old_pid)
    assert not (next((tmp_path / "collections").iterdir()) / old_name).exists()
    for point in POINTS[::10]:
        assert index.search("c", point.vectors[SEMANTIC], limit=1)[0].id == point.id
    index.close()

    index = EdgeIndex(tmp_path, auto_optimize=False)  # reopened: the base is hosted again
    ((name, pid),) = _hosts(index).items()
    assert name == new_name and pid not in (os.getpid(), new_pid) and _alive(pid)
    assert index.count("c") == len(POINTS)
    index.close()
