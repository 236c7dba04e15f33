"""``ingest.units.materialize``: every kind of unit ref becomes a validated item, stored once in
the blob store under its content hash, with the ref's tags, metadata and tenant; a file, a zip
member or raw bytes over the size limit, a file that is gone and an unknown kind are refused."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from loupe.ingest.blobs import LocalBlobStore
from loupe.ingest.items import Modality, item_id
from loupe.ingest.units import Limits, materialize
from loupe.search.errors import InvalidInput, NotFound, PayloadTooLarge

LIMITS = Limits(max_bytes=200_000, max_pixels=1_000_000, max_text_chars=50)


def _jpeg(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def _make(ref: dict[str, Any], blobs: LocalBlobStore, limits: Limits = LIMITS) -> Any:
    return materialize(ref, blobs=blobs, limits=limits)


def test_a_file_becomes_a_stored_image_with_its_tags_and_tenant(
    tmp_path: Path, blobs: LocalBlobStore
) -> None:
    data = _jpeg()
    (tmp_path / "trip").mkdir()
    (tmp_path / "trip" / "red.jpg").write_bytes(data)
    ref = {"kind": "file", "path": str(tmp_path / "trip" / "red.jpg"), "tags": ["trip"]}
    item = _make({**ref, "metadata": {"by": "me"}, "tenant": "t1"}, blobs)
    sha = hashlib.sha256(data).hexdigest()
    assert item.spec.blob == sha and blobs.get(sha) == data
    assert item.spec.id == item_id(Modality.IMAGE, sha, "t1") != item_id(Modality.IMAGE, sha)
    assert (item.spec.filename, item.spec.width, item.spec.height) == ("red.jpg", 40, 30)
    assert (item.spec.tags, item.spec.metadata, item.spec.tenant) == (["trip"], {"by": "me"}, "t1")
    assert item.image is not None and item.image.size == (40, 30) and item.text is None


def test_a_text_file_and_a_text_line_become_text_items(
    tmp_path: Path, blobs: LocalBlobStore
) -> None:
    (tmp_path / "note.md").write_bytes(b"  a red  bus\x07 ")
    from_file = _make({"kind": "file", "path": str(tmp_path / "note.md")}, blobs)
    from_line = _make({"kind": "text", "text": "a red bus", "tags": ["t"]}, blobs)
    for item in (from_file, from_line):
        assert item.spec.modality is Modality.TEXT and item.image is None
        assert item.text is not None and blobs.get(item.spec.blob) == item.text.encode()
    assert from_line.spec.tags == ["t"] and from_file.spec.filename == "note.md"


def test_a_zip_member_and_raw_bytes_are_read_and_named(
    tmp_path: Path, blobs: LocalBlobStore
) -> None:
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("inner/blue.jpg", _jpeg(20, 10))
    member = _make({"kind": "zip", "archive": str(archive), "member": "inner/blue.jpg"}, blobs)
    assert member.spec.filename == "blue.jpg" and member.spec.width == 20
    raw = _make({"kind": "raw", "blob": blobs.put(_jpeg(8, 8)), "name": "x/y.jpeg"}, blobs)
    assert raw.spec.filename == "y.jpeg" and raw.spec.height == 8
    with pytest.raises(InvalidInput, match="archive member cannot be read"):
        _make({"kind": "zip", "archive": str(archive), "member": "missing.jpg"}, blobs)


def test_a_stored_blob_ref_reads_back_the_same_item(tmp_path: Path, blobs: LocalBlobStore) -> None:
    (tmp_path / "a.jpg").write_bytes(_jpeg())
    first = _make({"kind": "file", "path": str(tmp_path / "a.jpg")}, blobs)
    again = _make({"kind": "blob", "spec": first.spec.to_json()}, blobs)
    assert again.spec == first.spec and again.image is not None and again.image.size == (40, 30)
    text = _make({"kind": "text", "text": "hello"}, blobs)
    assert _make({"kind": "blob", "spec": text.spec.to_json()}, blobs).text == "hello"


def test_limits_gone_files_and_unknown_kinds_are_refused(
    tmp_path: Path, blobs: LocalBlobStore
) -> None:
    data = _jpeg()
    (tmp_path / "big.jpg").write_bytes(data)
    small = Limits(max_bytes=len(data) - 1, max_pixels=10_000, max_text_chars=5)
    with pytest.raises(PayloadTooLarge, match="file is larger than the limit"):
        _make({"kind": "file", "path": str(tmp_path / "big.jpg")}, blobs, small)
    (tmp_path / "long.txt").write_text("x" * 11)  # a text is only bounded by the read
    with pytest.raises(PayloadTooLarge, match="file is larger than the limit of 10 bytes"):
        _make({"kind": "file", "path": str(tmp_path / "long.txt")}, blobs, Limits(10, 10, 100))
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("big.jpg", data)
    with pytest.raises(PayloadTooLarge, match="archive member is over the size limit"):
        _make({"kind": "zip", "archive": str(archive), "member": "big.jpg"}, blobs, small)
    with pytest.raises(NotFound):
        _make({"kind": "file", "path": str(tmp_path / "gone.jpg")}, blobs)
    with pytest.raises(InvalidInput, match="unknown unit kind 'tar'"):
        _make({"kind": "tar"}, blobs)
    assert [p for p in blobs.root.rglob("*") if p.is_file()] == []  # nothing refused is stored
