"""``search.index.edge_layers``: the layers file round-trips and names new layers in sequence;
tombstones are appended once, survive a reload, are carried to a build's target and forgotten
with their layer; leftovers of steps that never committed are removed."""

from __future__ import annotations

from pathlib import Path

from loupe.search.index.edge_layers import (
    PROGRESS,
    TOMBSTONES,
    Build,
    Layers,
    Tombstones,
    read_layers,
    read_progress,
    remove_strays,
    write_layers,
)


def test_layers_round_trip_through_the_file(tmp_path: Path) -> None:
    assert read_layers(tmp_path) is None  # a new or legacy collection
    layers = Layers(
        bases=("base-000001",),
        tail="tail-000002",
        build=Build("base-000003", ("base-000001", "tail-000000"), 12.5),
        seq=3,
        last_build_s=1.5,
        last_build_at=99.0,
    )
    write_layers(tmp_path, layers)
    assert read_layers(tmp_path) == layers
    assert layers.names() == ["base-000001", "tail-000002"]
    assert layers.frozen() == {"base-000001", "tail-000000"}
    assert Layers(bases=(), tail="t").frozen() == frozenset()


def test_next_name_counts_up_and_never_reuses_a_name() -> None:
    layers = Layers(bases=(), tail="tail-000001", seq=1)
    layers, tail = layers.next_name("tail")
    layers, base = layers.next_name("base")
    assert (tail, base, layers.seq) == ("tail-000002", "base-000003", 3)


def test_tombstones_are_written_once_and_read_back(tmp_path: Path) -> None:
    stones = Tombstones.load(tmp_path)
    stones.add("b1", ["x", "y", "x"])
    stones.add("b1", ["y"])  # known: not written again
    stones.add("b2", ["z"])
    assert (tmp_path / TOMBSTONES).read_text().splitlines() == ["b1 x", "b1 y", "b2 z"]
    again = Tombstones.load(tmp_path)
    assert again.of("b1") == {"x", "y"} and again.of("b2") == {"z"} and again.count() == 3
    assert again.of("other") == set()
    assert again.sorted_of("b1") == ("x", "y")
    again.add("b1", ["a"])
    assert again.sorted_of("b1") == ("a", "x", "y")  # the sorted view follows a change


def test_carry_names_the_target_for_what_a_build_did_not_apply(tmp_path: Path) -> None:
    stones = Tombstones.load(tmp_path)
    stones.add("b1", ["applied", "late"])
    stones.add("t0", ["also-late"])
    stones.carry({"b1": {"applied"}, "t0": set()}, "b2")
    assert stones.of("b2") == {"late", "also-late"}
    assert Tombstones.load(tmp_path).of("b2") == {"late", "also-late"}


def test_keep_only_forgets_gone_layers_and_spreads_lines_without_a_layer(tmp_path: Path) -> None:
    (tmp_path / TOMBSTONES).write_text("old-id\nb1 x\ngone y\n")
    stones = Tombstones.load(tmp_path)
    assert stones.sorted_of("b1") == ("x",)
    stones.keep_only(["b1", "b2"])
    assert stones.by_layer == {"b1": {"old-id", "x"}, "b2": {"old-id"}}
    assert stones.sorted_of("b1") == ("old-id", "x")
    assert Tombstones.load(tmp_path).by_layer == stones.by_layer  # the file was rewritten
    assert not (tmp_path / "tombstones.tmp").exists()


def test_remove_strays_keeps_only_what_the_layers_name(tmp_path: Path) -> None:
    layers = Layers(bases=("base-1",), tail="tail-2", build=Build("base-3", ("base-1",), 0.0))
    for name in ("base-1", "tail-2", "base-3", "tail-9", "base-0"):
        (tmp_path / name).mkdir()
    for name in ("meta.json", "layers.json", TOMBSTONES, PROGRESS, ".tmp-x", "notes.txt"):
        (tmp_path / name).write_text("{}")
    remove_strays(tmp_path, layers)
    kept = ["base-1", "tail-2", "base-3", "meta.json", "layers.json", TOMBSTONES, PROGRESS]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, "notes.txt"])


def test_progress_is_none_unless_a_json_object(tmp_path: Path) -> None:
    assert read_progress(tmp_path) is None
    (tmp_path / PROGRESS).write_text("{half")
    assert read_progress(tmp_path) is None
    (tmp_path / PROGRESS).write_text("[1]")
    assert read_progress(tmp_path) is None
    (tmp_path / PROGRESS).write_text('{"done": 3}')
    assert read_progress(tmp_path) == {"done": 3}
