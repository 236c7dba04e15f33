"""EdgeIndex only: persistence, WAL recovery after SIGKILL, the owner lock, HNSW recall."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from loupe.search.index import SEMANTIC, IndexUnavailable, Point
from loupe.search.index.edge_store import EdgeIndex
from tests.search.test_index import DIM, VISUAL_DIM, make_points, pid

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[EdgeIndex]:
    index = EdgeIndex(tmp_path, auto_optimize=False)
    yield index
    index.close()


def test_close_and_reopen_keeps_points_and_aliases(tmp_path: Path) -> None:
    index = EdgeIndex(tmp_path)
    index.create_collection("c1", model_id="m1", dim=DIM, visual_dim=VISUAL_DIM)
    points = make_points(30)
    index.upsert("c1", points)
    index.set_alias("loupe", "c1")
    index.close()
    index = EdgeIndex(tmp_path)
    assert index.count("loupe") == 30
    ids = [p.id for p in points]
    assert [h.id for h in index.retrieve("c1", ids)] == ids
    assert index.collection_info("loupe").model_id == "m1"
    index.close()


def test_second_opener_is_refused_while_the_first_is_open(tmp_path: Path) -> None:
    first = EdgeIndex(tmp_path)
    with pytest.raises(IndexUnavailable, match="another process") as err:
        EdgeIndex(tmp_path)
    assert "LOUPE_QDRANT_URL" in str(err.value)
    first.close()
    EdgeIndex(tmp_path).close()


CHILD = """
import sys, time
from loupe.search.index.edge_store import EdgeIndex
from tests.search.test_index import DIM, VISUAL_DIM, make_points
index = EdgeIndex(sys.argv[1], auto_optimize=False)
index.create_collection("c1", model_id="m1", dim=DIM, visual_dim=VISUAL_DIM)
points = make_points(500)
for start in range(0, 500, 50):
    index.upsert("c1", points[start:start + 50])
print("upserted", flush=True)
time.sleep(60)
"""


def test_points_survive_sigkill_without_flush(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CHILD), str(tmp_path)],
        stdout=subprocess.PIPE,
        env=env,
        cwd=REPO,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "upserted"
        child.send_signal(signal.SIGKILL)
        child.wait()
    index = EdgeIndex(tmp_path)  # the lock went with its owner
    assert index.count("c1") == 500
    assert len(index.retrieve("c1", [pid(i) for i in range(500)])) == 500
    index.close()


def clustered(n: int, dim: int, seed: int) -> NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dim)).astype(np.float32)
    x = centres[rng.integers(0, 40, n)] + 0.35 * rng.standard_normal((n, dim)).astype(np.float32)
    unit: NDArray[np.float32] = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return unit


def test_hnsw_after_optimize_agrees_with_exact_search(edge: EdgeIndex) -> None:
    dim, n = 128, 4000  # 2 MB: above the exact-search threshold of a segment
    vectors = clustered(n, dim, seed=0)
    index = edge
    index.create_collection("c", model_id="m", dim=dim, visual_dim=None)
    for start in range(0, n, 500):
        batch = [
            Point(id=pid(i), vectors={SEMANTIC: vectors[i]}, payload={"i": i})
            for i in range(start, min(n, start + 500))
        ]
        index.upsert("c", batch)
    assert index.index_state("c").pending == n
    index.optimize("c")
    assert index.index_state("c").pending == 0
    assert index.index_state("c").indexed == n
    queries = clustered(50, dim, seed=1)
    found = 0
    for q in queries:
        exact = {h.id for h in index.search("c", q, limit=10, exact=True)}
        approx = {h.id for h in index.search("c", q, limit=10)}
        found += len(exact & approx)
    assert found / (10 * len(queries)) >= 0.98


def test_background_builder_indexes_when_the_tail_is_full(tmp_path: Path) -> None:
    index = EdgeIndex(tmp_path, build_after=100)
    index.create_collection("c1", model_id="m1", dim=DIM, visual_dim=VISUAL_DIM)
    index.upsert("c1", make_points(50))
    index.upsert("c1", make_points(150, seed=1)[50:])
    deadline = time.monotonic() + 30
    while index.index_state("c1").pending and time.monotonic() < deadline:
        time.sleep(0.05)
    assert index.index_state("c1").pending == 0
    assert index.count("c1") == 150
    assert index.index_state("c1").last_build_s is not None
    index.close()
