"""``evaluate`` end to end: a colour encoder with hand-computed metrics, then the real encoder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from loupe.bench.evaluation.run import EvalReport, evaluate
from loupe.search.encoders.base import Encoder, ImageVectors, TextRole, Vectors, l2_normalise

COLOURS = ("red", "green", "blue")


class MeanColourEncoder:
    """A real (tiny) encoder: an image is its mean RGB colour, a text the colour word it names.

    ``visual`` is the same colour with its channels reversed: a permutation, so every
    image→image metric on it equals the semantic one.
    """

    def __init__(self, *, with_visual: bool) -> None:
        self.with_visual = with_visual
        self.loads = 0

    @property
    def model_id(self) -> str:
        return "mean-colour"

    @property
    def dim(self) -> int:
        return 3

    @property
    def visual_dim(self) -> int | None:
        return 3 if self.with_visual else None

    @property
    def device(self) -> str:
        return "cpu"

    def load(self) -> None:
        self.loads += 1

    def encode_texts(self, texts: Sequence[str], *, role: TextRole = TextRole.QUERY) -> Vectors:
        rows = []
        for text in texts:
            named = [colour in text for colour in COLOURS]
            if sum(named) != 1:
                raise ValueError(f"{text!r} names no single colour")
            rows.append(np.asarray(named, dtype=np.float32))
        return l2_normalise(np.stack(rows))

    def prepare_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return np.stack([np.asarray(image, dtype=np.float64).mean(axis=(0, 1)) for image in images])

    def embed_prepared(self, prepared: np.ndarray) -> ImageVectors:
        semantic = l2_normalise(prepared)
        return ImageVectors(semantic, semantic[:, ::-1].copy() if self.with_visual else None)

    def encode_images(self, images: Sequence[Image.Image]) -> ImageVectors:
        return self.embed_prepared(self.prepare_images(images))


@pytest.fixture
def colour_folder(tmp_path: Path) -> Path:
    # unit mean colours: red (1,0,0), (.447,.894,0) | green (0,1,0), (0,.8,.6)
    #                    blue (0,0,1), (0,.6,.8)
    pixels = {
        "red": [(255, 0, 0), (100, 200, 0)],
        "green": [(0, 255, 0), (0, 200, 150)],
        "blue": [(0, 0, 255), (0, 150, 200)],
    }
    for label, colours in pixels.items():
        (tmp_path / label).mkdir()
        for i, rgb in enumerate(colours):
            Image.new("RGB", (6, 4), rgb).save(tmp_path / label / f"{i}.png")
    return tmp_path


def test_the_colour_encoder_satisfies_the_contract() -> None:
    assert isinstance(MeanColourEncoder(with_visual=True), Encoder)


@pytest.mark.parametrize("batch_size", [4, 64])
def test_evaluate_matches_hand_computed_metrics(colour_folder: Path, batch_size: int) -> None:
    encoder = MeanColourEncoder(with_visual=True)
    report = evaluate(encoder, f"folder:{colour_folder}", batch_size=batch_size)
    assert encoder.loads == 1
    assert (report.images, report.labels, report.model_id) == (6, 3, "mean-colour")
    # zero-shot: only (100,200,0) "red" goes to green
    assert report.zero_shot == {"top@1": pytest.approx(5 / 6)}
    # text→image: red ranks its two first (AP 1); green ranks G, red(.894), G(.8) → AP 5/6;
    # blue ranks its two first (AP 1)
    t2i = report.text_to_image
    assert t2i["mAP"] == pytest.approx((1 + 5 / 6 + 1) / 3)
    assert t2i["hit@1"] == 1.0
    assert t2i["recall@1"] == pytest.approx(1 / 2)
    assert t2i["recall@5"] == 1.0
    assert t2i["precision@5"] == pytest.approx(2 / 5)
    # image→image, leave-one-out: APs 1 (pure red), 1/4 (the odd red), 1/2, 1/2 (greens),
    # 1 (pure blue), 1/2 (the other blue)
    for space in ("semantic", "visual"):
        i2i = report.image_to_image[space]
        assert i2i["mAP"] == pytest.approx((1 + 1 / 4 + 1 / 2 + 1 / 2 + 1 + 1 / 2) / 6)
        assert i2i["hit@1"] == pytest.approx(2 / 6)
        assert i2i["hit@5"] == 1.0
        assert i2i["queries"] == 6.0
    assert report.images_per_second > 0


def test_report_without_visual_vectors_has_only_semantic(colour_folder: Path) -> None:
    report = evaluate(MeanColourEncoder(with_visual=False), f"folder:{colour_folder}")
    assert list(report.image_to_image) == ["semantic"]


def test_report_json_and_rows(colour_folder: Path) -> None:
    report = evaluate(MeanColourEncoder(with_visual=True), f"folder:{colour_folder}", limit=3)
    assert report.images == 3
    decoded = json.loads(report.to_json())
    assert decoded["dataset"] == f"folder:{colour_folder}"
    assert decoded["zero_shot"]["top@1"] == report.zero_shot["top@1"]
    assert decoded["images_per_second"] == report.images_per_second
    rows = report.rows()
    assert ("text→image", "mAP", report.text_to_image["mAP"]) in rows
    assert ("image→image (visual)", "hit@1", report.image_to_image["visual"]["hit@1"]) in rows
    assert all(metric != "queries" for _, metric, _ in rows)
    assert rows[-1][:2] == ("speed", "images/s")


@pytest.mark.slow
def test_bundled_encoder_on_samples_beats_chance() -> None:
    from loupe.search.encoders import make_encoder

    report = evaluate(make_encoder("bundled", device="cpu"), "samples")
    assert isinstance(report, EvalReport)
    assert report.images == report.labels == 19
    # chance is 1/19 for top@1 and about 0.19 for mAP with 19 singleton labels
    assert report.zero_shot["top@1"] > 0.2
    assert report.text_to_image["mAP"] > 0.3
    assert report.image_to_image["semantic"]["queries"] == 0.0  # every label is a singleton
