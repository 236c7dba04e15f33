"""The concept eval set: GCompris's Qt resource bundles, the photo/query table, the metrics."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from loupe.bench.evaluation.concept_set import CATEGORIES, SUBJECTS, subject_of
from loupe.bench.evaluation.concepts import load_photos, queries, scores
from loupe.bench.evaluation.gcompris import RCC_DIR, RccError, read_rcc


def _bundle(files: dict[str, bytes], *, compress: bool) -> bytes:
    """A version-2 Qt resource bundle with one folder ``d`` holding ``files``."""
    names = b""
    name_offsets = {}
    for name in ["d", *files]:
        name_offsets[name] = len(names)
        encoded = name.encode("utf-16-be")
        names += struct.pack(">HI", len(name), 0) + encoded
    payload = b""
    data_offsets = {}
    for name, blob in files.items():
        data_offsets[name] = len(payload)
        stored = struct.pack(">I", len(blob)) + zlib.compress(blob) if compress else blob
        payload += struct.pack(">I", len(stored)) + stored
    flags = 0x1 if compress else 0x0
    nodes = struct.pack(">IHII", 0, 0x2, 1, 1) + bytes(8)  # root: one child at 1
    nodes += struct.pack(">IHII", name_offsets["d"], 0x2, len(files), 2) + bytes(8)
    for name in files:
        nodes += struct.pack(">IHHHI", name_offsets[name], flags, 0, 0, data_offsets[name])
        nodes += bytes(8)
    header_size = 20
    tree = header_size
    data_at = tree + len(nodes)
    names_at = data_at + len(payload)
    header = b"qres" + struct.pack(">IIII", 2, tree, data_at, names_at)
    return header + nodes + payload + names


@pytest.mark.parametrize("compress", [True, False])
def test_read_rcc_walks_folders_and_inflates(compress: bool) -> None:
    files = {"a.webp": b"first" * 50, "b.txt": b"second"}
    found = dict(read_rcc(_bundle(files, compress=compress)))
    assert found == {"d/a.webp": files["a.webp"], "d/b.txt": files["b.txt"]}


def test_read_rcc_refuses_other_files() -> None:
    with pytest.raises(RccError, match="qres"):
        list(read_rcc(b"PK\x03\x04 not a bundle"))


def test_scores_hit_at_3_and_average_precision_at_10() -> None:
    assert scores([5, 1, 2], frozenset({1})) == (1.0, 0.5)
    assert scores([5, 6, 7, 1], frozenset({1, 2})) == pytest.approx((0.0, 0.25 / 2))
    assert scores([1, 2], frozenset({1, 2})) == (1.0, 1.0)


def test_subject_of_strips_trailing_digits() -> None:
    hammer = subject_of("hammer7")
    assert hammer is not None and hammer.en == "hammer"
    assert subject_of("sideCutter1") is None
    assert {c for s in SUBJECTS for c in s.categories} <= set(CATEGORIES)


@pytest.mark.skipif(not RCC_DIR.is_dir(), reason="needs Debian gcompris-qt-data")
def test_the_set_has_164_real_photos_and_258_queries() -> None:
    photos = load_photos()
    assert len(photos) == 164
    assert all(max(p.image.size) >= 320 and p.image.mode == "RGB" for p in photos)
    qs = queries(photos)
    assert len(qs) == 4 * len(SUBJECTS) + 2 * len(CATEGORIES) == 258
    assert all(q.relevant for q in qs)
    kinds = {(q.lang, q.kind) for q in qs}
    assert kinds == {
        (lang, kind) for lang in ("en", "zh") for kind in ("subject", "phrase", "category")
    }
    buffer = io.BytesIO()
    photos[0].image.save(buffer, "PNG")
    assert Image.open(buffer).size == photos[0].image.size
