"""A base's host locks in RAM the files text searches read (``edge_pin``), within its budget:
not the image graph and int8 copies, not the holes of preallocated files; what it locked shows
in the index state; without the right to lock it says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from loupe.search.index import SEMANTIC
from loupe.search.index.edge_pin import PAGE, extents, hot_files, pin
from loupe.search.index.edge_store import EdgeIndex
from tests.search.test_index import DIM, VISUAL_DIM, make_points

REPO = Path(__file__).resolve().parents[2]


def _locked_kb(pid: int | str = "self") -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmLck:")[1].split()[0])


def _built(root: Path, pin_mb: int = 0) -> tuple[EdgeIndex, Path]:
    index = EdgeIndex(root, auto_optimize=False, pin_mb=pin_mb)
    index.create_collection("c", model_id="m", dim=DIM, visual_dim=VISUAL_DIM)
    index.upsert("c", make_points(400))
    index.optimize("c")
    folder = next((root / "collections").iterdir())
    return index, next(p for p in folder.iterdir() if p.name.startswith("base-"))


def _data(path: Path) -> int:
    fd = os.open(path, os.O_RDONLY)
    try:
        return sum(end - start for start, end in extents(fd, os.fstat(fd).st_size))
    finally:
        os.close(fd)


def test_the_files_text_searches_read_are_locked_within_the_budget(tmp_path: Path) -> None:
    index, base = _built(tmp_path)
    index.close()
    files = hot_files(base)
    names = [str(p.relative_to(base)) for p in files]
    assert not [n for n in names if "vector_index-visual" in n or n.endswith("quantized.data")]
    assert any("payload_storage" in n for n in names)
    assert "id_tracker" in names[0]  # most read first
    # the float originals last: the semantic ones rescore, the visual ones fold duplicates
    assert "vector_storage-visual" in names[-1]
    assert any("vector_storage-semantic" in n and n.endswith("matrix.dat") for n in names)
    before = _locked_kb()
    pinned = pin(base, 64)
    try:
        assert pinned.refused is None
        assert pinned.files == len([p for p in files if _data(p)])
        assert pinned.bytes == sum(_data(p) for p in files)
        # the data extents only: far less than the files' sizes with their holes
        assert pinned.bytes < sum(p.stat().st_size for p in files) / 2
        assert _locked_kb() - before == pinned.bytes // 1024
    finally:
        pinned.release()
    assert _locked_kb() == before
    assert pin(base, 0).bytes == 0
    small = pin(base, 1)  # 1 MB: whole files only, the first ones that fit
    try:
        assert 0 < small.bytes <= 2**20
        assert _locked_kb() - before == small.bytes // 1024
    finally:
        small.release()


def test_a_sparse_file_is_locked_by_its_data_only(tmp_path: Path) -> None:
    path = tmp_path / "page_0.dat"
    with path.open("wb") as fh:
        fh.write(b"x" * 100)
        fh.seek(8 * 2**20)
        fh.write(b"y" * (PAGE + 1))
        fh.truncate(32 * 2**20)
    fd = os.open(path, os.O_RDONLY)
    try:
        parts = extents(fd, 32 * 2**20)
    finally:
        os.close(fd)
    assert parts[0][0] == 0 and parts[-1][1] <= 8 * 2**20 + 2 * PAGE + 2**16
    assert sum(end - start for start, end in parts) < 2**20
    assert all(start % PAGE == 0 and end % PAGE == 0 for start, end in parts)


def test_the_host_locks_its_base_and_lets_go_when_swapped(tmp_path: Path) -> None:
    index, _ = _built(tmp_path, pin_mb=64)
    try:
        state = index.index_state("c")
        assert state.pinned_bytes is not None and state.pinned_bytes > 0
        pid = next(iter(index._get("c")[1].hosts.values())).pid()
        assert pid is not None and _locked_kb(pid) >= state.pinned_bytes // 1024
        index.upsert("c", make_points(450)[400:])
        index.optimize("c")  # a new base, a new host; the old one exits, its locks with it
        assert not Path(f"/proc/{pid}").exists()
        assert (index.index_state("c").pinned_bytes or 0) > 0
        hits = index.search("c", make_points(1)[0].vectors[SEMANTIC], limit=1)
        assert hits[0].id == make_points(1)[0].id
    finally:
        index.close()
    unpinned, _ = _built(tmp_path / "none")
    try:
        assert unpinned.index_state("c").pinned_bytes == 0
    finally:
        unpinned.close()


REFUSED = """
import json, resource, sys
from pathlib import Path
from loupe.search.index.edge_pin import pin
resource.setrlimit(resource.RLIMIT_MEMLOCK, (64 * 1024, 64 * 1024))
pinned = pin(Path(sys.argv[1]), 64)
print(json.dumps([pinned.refused, pinned.bytes]))
"""


def test_without_the_right_to_lock_it_says_so(tmp_path: Path) -> None:
    index, base = _built(tmp_path)
    index.close()
    drop = ["setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock"]
    if os.geteuid() != 0 or subprocess.run([*drop, "true"], check=False).returncode != 0:
        pytest.skip("needs root and setpriv to run a process without CAP_IPC_LOCK")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = textwrap.dedent(REFUSED)
    done = subprocess.run(
        [*drop, sys.executable, "-c", code, str(base)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    refused, locked = json.loads(done.stdout)
    assert refused and locked <= 64 * 1024  # the OS said no: no more than its limit
