"""The embedded store's shards: every payload field a text query's evidence filters on has an
index (a filter on a field without one reads every point's payload: ~240 ms at 100k points),
also on a shard made before that index existed, and filters on them answer as before; a tenant
of 10k points is below the full-scan threshold (scanned, not walked: ``search.index.tuning``); a
shard searches with ``SEARCH_THREADS`` threads, also one made before that setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import qdrant_edge as qe

from loupe.search.evidence_plan import plan
from loupe.search.index import SEMANTIC, Filter, Point
from loupe.search.index.base import BOOL_FIELDS, Range
from loupe.search.index.edge_layers import read_layers
from loupe.search.index.edge_shards import (
    SEARCH_THREADS,
    base_config,
    create_shard,
    tail_config,
)
from loupe.search.index.edge_store import EdgeIndex
from loupe.search.index.stamp import Stamp
from loupe.search.index.tuning import FULL_SCAN_KB

DIM = 8
REPO = Path(__file__).resolve().parents[2]
# Together they ask for every kind of evidence: words to read, writing, objects, people, a
# colour, night, black and white.
QUERIES = ("a red car at night", "black and white photo of a person", "a sign saying 'open'")


def _fields(flt: Filter) -> set[str]:
    return {*flt.equals, *flt.any_of, *flt.all_of, *flt.ranges}


def _indexed(shard_dir: Path) -> set[str]:
    shard = qe.EdgeShard.load(str(shard_dir))
    try:
        return set(shard.info().payload_schema or {})
    finally:
        shard.close()


def test_every_field_text_evidence_filters_on_is_indexed(tmp_path: Path) -> None:
    evidence = [piece for query in QUERIES for piece in plan(query)]
    assert {e.kind for e in evidence} == {"text", "writing", "object", "colour", "light"}
    wanted = set().union(*(_fields(e.flt) for e in evidence))
    create_shard(tmp_path / "s", tail_config(Stamp("m", DIM, None, 0.0))).close()
    assert wanted <= _indexed(tmp_path / "s"), wanted - _indexed(tmp_path / "s")


NEW_INDEXES = {*BOOL_FIELDS, "enrich.text_count"}
FILTERS = {
    "night": Filter(equals={"enrich.night": True}),
    "bw": Filter(equals={"enrich.bw": True}),
    "writing": Filter(ranges={"enrich.text_count": Range(gte=1)}),
}


def _answers(index: EdgeIndex, vector: np.ndarray) -> dict[str, set[str]]:
    return {k: {h.id[-1] for h in index.search("c", vector, flt=f)} for k, f in FILTERS.items()}


@pytest.mark.parametrize("layer", ["tail", "base"])
def test_an_older_layer_gets_the_indexes_it_lacks_and_filters_answer_the_same(
    tmp_path: Path, layer: str
) -> None:
    """A tail gets them when it is opened; a base (never written by the serving process) is
    rebuilt by the next build, which the missing index starts by itself."""
    index = EdgeIndex(tmp_path, auto_optimize=False)
    index.create_collection("c", model_id="m", dim=DIM, visual_dim=None)
    vector = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)
    night = {"enrich": {"night": True, "bw": False, "text_count": 2}}
    day = {"enrich": {"night": False, "bw": True, "text_count": 0}}
    index.upsert(
        "c",
        [
            Point("00000000-0000-0000-0000-000000000001", {SEMANTIC: vector}, night),
            Point("00000000-0000-0000-0000-000000000002", {SEMANTIC: vector}, day),
        ],
    )
    if layer == "base":
        index.optimize("c")
    index.close()
    folder = tmp_path / "collections" / "c"
    layers = read_layers(folder)
    assert layers is not None
    shard_dir = folder / (layers.tail if layer == "tail" else layers.bases[0])
    shard = qe.EdgeShard.load(str(shard_dir))  # as a layer made before these indexes
    for key in NEW_INDEXES:
        shard.update(qe.UpdateOperation.delete_field_index(key))
    shard.flush()
    shard.close()
    assert not NEW_INDEXES & _indexed(shard_dir)

    wanted = {"night": {"1"}, "bw": {"2"}, "writing": {"1"}}
    index = EdgeIndex(tmp_path, auto_optimize=False)
    try:
        assert _answers(index, vector) == wanted
        if layer == "base":
            assert not NEW_INDEXES & _indexed(shard_dir)  # the serving process left it alone
            index.optimize("c")  # builds although nothing else changed
            assert _answers(index, vector) == wanted
    finally:
        index.close()
    layers = read_layers(folder)
    assert layers is not None
    now = folder / (layers.tail if layer == "tail" else layers.bases[0])
    assert _indexed(now) >= NEW_INDEXES


def test_a_tenant_of_a_100k_library_in_ten_is_scanned_not_walked() -> None:
    config = base_config(Stamp("m", 384, 1280, 0.0))
    assert config.hnsw_config is not None
    threshold_kb = config.hnsw_config.full_scan_threshold
    assert threshold_kb == FULL_SCAN_KB
    assert threshold_kb * 1024 // (384 * 4) >= 10_000  # points of 384-d float32 under it


THREADS = """
import json, os, sys, time
from pathlib import Path
import qdrant_edge as qe
from loupe.search.index.edge_shards import load_shard

def searchers():
    names = (Path(f"/proc/self/task/{t}/comm").read_text() for t in os.listdir("/proc/self/task"))
    return sum(name.startswith("edge-search") for name in names)

shard = load_shard(Path(sys.argv[1]), writable=sys.argv[2] == "tail")
# the pool's threads start after the load returns (a loaded machine read 0 at once): count
# them when two readings 0.2 s apart agree
seen, deadline = -1, time.monotonic() + 10
while True:
    now = searchers()
    if (now and now == seen) or time.monotonic() > deadline:
        break
    seen = now
    time.sleep(0.2)
print(json.dumps(now))
"""


@pytest.mark.parametrize("kind", ["tail", "base"])
def test_a_shard_searches_with_one_thread_also_one_made_before(tmp_path: Path, kind: str) -> None:
    stamp = Stamp(model_id="m", dim=DIM, visual_dim=None, created_at=0.0)
    made = (tail_config if kind == "tail" else base_config)(stamp)
    assert made.max_search_threads == SEARCH_THREADS
    # as shards were made before: the engine's default pool, one thread per CPU or more
    old = qe.EdgeConfig(vectors=made.vectors, sparse_vectors=made.sparse_vectors)
    qe.EdgeShard.create(str(tmp_path / "old"), old).close()
    create_shard(tmp_path / "new", made).close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("old", "new"):
        done = subprocess.run(
            [sys.executable, "-c", THREADS, str(tmp_path / name), kind],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert json.loads(done.stdout) == SEARCH_THREADS, name
