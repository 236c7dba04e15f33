from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from loupe.ingest.blobs import LocalBlobStore
from loupe.ingest.sources import plan_source
from loupe.search.errors import Forbidden, InvalidInput


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), "green").save(buf, format="JPEG")
    return buf.getvalue()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "root"
    (folder / "album" / "sub").mkdir(parents=True)
    (folder / "album" / "a.jpg").write_bytes(_jpeg())
    (folder / "album" / "sub" / "b.png").write_bytes(_jpeg())
    (folder / "album" / "note.txt").write_text("a note about cats")
    (folder / "album" / "ignored.bin").write_bytes(b"x")
    return folder


def plan(path: str, root: Path, tmp_path: Path) -> list[str]:
    _, units = plan_source(
        path, roots=[root], blobs=LocalBlobStore(tmp_path / "blobs"), max_bytes=1_000_000
    )
    return [u.name for u in units]


def test_folder(root: Path, tmp_path: Path) -> None:
    assert plan(str(root / "album"), root, tmp_path) == [
        "album/a.jpg",
        "album/note.txt",
        "album/sub/b.png",
    ]
    assert plan("album", root, tmp_path) == plan(str(root / "album"), root, tmp_path)


def test_outside_roots_and_traversal_refused(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    with pytest.raises(Forbidden):
        plan(str(outside), root, tmp_path)
    with pytest.raises(Forbidden):
        plan(str(root / "album" / ".." / ".." / "outside"), root, tmp_path)
    (root / "album" / "escape.jpg").symlink_to(outside / "secret.jpg")
    (outside / "secret.jpg").write_bytes(_jpeg())
    with pytest.raises(Forbidden, match="link"):
        plan(str(root / "album"), root, tmp_path)
    (root / "link").symlink_to(outside)
    with pytest.raises(Forbidden):
        plan(str(root / "link"), root, tmp_path)


def test_no_roots_means_no_bulk(root: Path, tmp_path: Path) -> None:
    with pytest.raises(Forbidden, match="LOUPE_INGEST_ROOTS"):
        plan_source(str(root), roots=[], blobs=LocalBlobStore(tmp_path / "b"), max_bytes=10)


def test_zip_slip_and_zip_bomb(root: Path, tmp_path: Path) -> None:
    slip = root / "slip.zip"
    with zipfile.ZipFile(slip, "w") as zf:
        zf.writestr("../../evil.jpg", _jpeg())
    with pytest.raises(InvalidInput, match="zip-slip"):
        plan(str(slip), root, tmp_path)
    bomb = root / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.jpg", b"\x00" * 5_000_000)
    with pytest.raises(InvalidInput, match="zip bomb"):
        plan(str(bomb), root, tmp_path)
    good = root / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("x/one.jpg", _jpeg())
    assert plan(str(good), root, tmp_path) == ["x/one.jpg"]


def test_tar_and_manifest(root: Path, tmp_path: Path) -> None:
    archive = root / "photos.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        data = _jpeg()
        info = tarfile.TarInfo("p/one.jpg")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    assert plan(str(archive), root, tmp_path) == ["p/one.jpg"]
    manifest = root / "m.jsonl"
    lines = [{"path": "album/a.jpg", "text": "green", "metadata": {"k": 1}}, {"text": "hello"}]
    manifest.write_text("\n".join(json.dumps(line) for line in lines))
    assert plan(str(manifest), root, tmp_path) == ["album/a.jpg", "line 2"]
    manifest.write_text('{"path": "../../etc/passwd"}\n')
    with pytest.raises(Forbidden):
        plan(str(manifest), root, tmp_path)
    manifest.write_text("{not json\n")
    with pytest.raises(InvalidInput, match="line 1"):
        plan(str(manifest), root, tmp_path)
