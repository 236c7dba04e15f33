"""The face detector on real photos: the shipped graph and its licence, where the boxes land on
landscape and portrait photos, small faces, no faces where there are none."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import skimage.data
from PIL import Image

from loupe.ingest.enrich.base import Frame
from loupe.ingest.enrich.faces import MODEL, FaceEnricher

PROVENANCE: dict[str, Any] = json.loads(MODEL.with_suffix(".json").read_text("utf-8"))
HEAD = (102, 0, 358, 256)  # the astronaut's head and shoulders in scikit-image's photo
FACE_IN_HEAD = (0.26, 0.26, 0.69, 0.68)  # her face in that crop, as fractions


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")


def iou(a: list[float], b: tuple[float, ...]) -> float:
    wide = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    tall = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = wide * tall
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def pasted_face(
    background: str, size: tuple[int, int], face_px: int
) -> tuple[Image.Image, tuple[float, ...]]:
    """``background`` resized to ``size`` with the astronaut's head pasted right of centre, her
    face ``face_px`` wide once the photo is scaled to 256 px on its longest side; and where the
    face is (fractions)."""
    width, height = size
    side = round(face_px * max(size) / 256 / (FACE_IN_HEAD[2] - FACE_IN_HEAD[0]))
    left, top = width - side - width // 10, height // 6
    canvas = photo(background).resize(size)
    canvas.paste(photo("astronaut").crop(HEAD).resize((side, side)), (left, top))
    x0, y0, x1, y1 = FACE_IN_HEAD
    where = (
        (left + x0 * side) / width,
        (top + y0 * side) / height,
        (left + x1 * side) / width,
        (top + y1 * side) / height,
    )
    return canvas, where


@pytest.fixture(scope="module")
def faces() -> FaceEnricher:
    enricher = FaceEnricher()
    enricher.load()
    return enricher


def test_shipped_graph_is_the_one_its_provenance_describes() -> None:
    assert PROVENANCE["graph"]["file"] == MODEL.name
    assert hashlib.sha256(MODEL.read_bytes()).hexdigest() == PROVENANCE["graph"]["sha256"]
    licence = MODEL.with_suffix(".LICENSE").read_text("utf-8")
    assert PROVENANCE["source"]["sha256"] in licence
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in licence


def test_a_face_is_found_where_it_is_and_the_fields_are_plain_json(faces: FaceEnricher) -> None:
    fields = faces(Frame.of(photo("astronaut")))
    assert fields["faces"] == 1
    assert iou(fields["face_boxes"][0], (0.33, 0.13, 0.54, 0.34)) > 0.8
    assert json.loads(json.dumps(fields)) == fields  # floats, not numpy scalars


@pytest.mark.parametrize(
    ("background", "size"),
    [("coffee", (1600, 1200)), ("coffee", (900, 1600)), ("rocket", (1600, 900))],
)
@pytest.mark.parametrize("face_px", [26, 60])
def test_boxes_land_on_the_face_in_landscape_and_portrait_photos(
    faces: FaceEnricher, background: str, size: tuple[int, int], face_px: int
) -> None:
    image, where = pasted_face(background, size, face_px)
    fields = faces(Frame.of(image))
    assert fields["faces"] == 1
    assert iou(fields["face_boxes"][0], where) > 0.6


@pytest.mark.parametrize(
    "name", ["chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "page"]
)
def test_no_face_where_there_is_none(faces: FaceEnricher, name: str) -> None:
    assert faces(Frame.of(photo(name))) == {"faces": 0, "face_boxes": []}
