"""Counts of the embedded store are kept per layer until that layer is written: every write
(to the tail, a delete from a base, a build's swap) shows in the next count, filtered or not.
(Tombstones during a build: ``test_edge_builds``.)"""

from __future__ import annotations

from pathlib import Path

from loupe.search.index import Filter
from loupe.search.index.edge_counts import KEPT, LayerCounts
from loupe.search.index.edge_store import EdgeIndex
from tests.search.test_index import DIM, VISUAL_DIM, make_points

IMAGES = Filter(equals={"modality": "image"})


def test_counts_follow_every_write(tmp_path: Path) -> None:
    index = EdgeIndex(tmp_path, auto_optimize=False)
    try:
        index.create_collection("c", model_id="m", dim=DIM, visual_dim=VISUAL_DIM)
        points = make_points(40)
        index.upsert("c", points[:20])
        assert (index.count("c"), index.count("c", IMAGES)) == (20, 10)
        index.upsert("c", points[20:])  # the tail
        assert (index.count("c"), index.count("c", IMAGES)) == (40, 20)
        index.optimize("c")  # a swap: one base
        assert (index.count("c"), index.count("c", IMAGES)) == (40, 20)
        index.delete("c", [points[0].id, points[1].id])  # from the base
        assert (index.count("c"), index.count("c", IMAGES)) == (38, 19)
        index.upsert("c", [points[0]])  # back, in the tail
        assert (index.count("c"), index.count("c", IMAGES)) == (39, 20)
        assert index.collection_info("c").points == 39
    finally:
        index.close()


def test_layer_counts_ask_once_per_layer_and_filter_until_written() -> None:
    asked: list[str] = []

    def counter(value: int, name: str) -> int:
        asked.append(name)
        return value

    counts = LayerCounts()
    assert counts.get("base", "None", lambda: counter(5, "base")) == 5
    assert counts.get("base", "None", lambda: counter(6, "base")) == 5
    assert counts.get("tail", "None", lambda: counter(1, "tail")) == 1
    counts.written("tail")
    assert counts.get("tail", "None", lambda: counter(2, "tail")) == 2
    assert counts.get("base", "None", lambda: counter(7, "base")) == 5
    assert asked == ["base", "tail", "tail"]
    for i in range(KEPT + 1):  # bounded: a full layer forgets its filters
        counts.get("base", f"f{i}", lambda: 0)
    assert counts.get("base", "None", lambda: counter(8, "base")) == 8
