"""The enrichers on real models: text rendered onto a real photo, real faces, pixel colours."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image, ImageDraw, ImageFont

from loupe.bench.evaluation.gcompris import RCC_DIR, photos
from loupe.ingest.enrich.base import Frame, shrink
from loupe.ingest.enrich.colour import ColourEnricher
from loupe.ingest.enrich.faces import FaceEnricher
from loupe.ingest.enrich.ocr import OcrEnricher, accepted, may_hold_a_line
from loupe.ingest.enrich.runner import Enrichers, build_enrichers
from loupe.search.errors import InvalidInput


def photo(name: str) -> Image.Image:
    """One of scikit-image's sample photos."""
    return Image.fromarray(getattr(skimage.data, name)())


CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")


def sign_photo(size: tuple[int, int] = (1600, 1200)) -> Image.Image:
    """The cat photo with a white sign reading 'RE16 TGK' over '中山路出口'."""
    image = photo("chelsea").resize(size)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(CJK_FONT), size[0] // 18)
    w, h = size
    draw.rectangle((w // 16, h // 12, w * 9 // 16, h * 7 // 20), fill="white")
    draw.text((w // 12, h // 11), "RE16 TGK", font=font, fill="black")
    draw.text((w // 12, h * 5 // 24), "中山路出口", font=font, fill="black")
    return image


@pytest.fixture(scope="module")
def ocr() -> OcrEnricher:
    enricher = OcrEnricher(min_score=0.8)
    enricher.load()
    return enricher


def test_ocr_reads_english_and_chinese_with_scores_and_boxes(ocr: OcrEnricher) -> None:
    fields = ocr(Frame.of(sign_photo()))
    texts = [line["text"] for line in fields["text_lines"]]
    assert texts == ["RE16 TGK", "中山路出口"]
    for line in fields["text_lines"]:
        assert line["score"] >= 0.8
        x0, y0, x1, y1 = line["box"]
        assert 0.0 < x0 < x1 < 0.6 and 0.05 < y0 < y1 < 0.4  # where the sign is
    assert fields["text"] == "RE16 TGK 中山路出口"
    assert {"re1", "e16", "中山", "出口"} <= set(fields["text_grams"])


@pytest.mark.parametrize("text", ["Main Street", "EXIT 7", "中山路出口", "出口"])
def test_ocr_reads_short_street_signs(ocr: OcrEnricher, text: str) -> None:
    image = photo("coffee").resize((1600, 1200))
    draw = ImageDraw.Draw(image)
    draw.rectangle((200, 200, 1000, 420), fill="white")
    draw.text((240, 230), text, font=ImageFont.truetype(str(CJK_FONT), 120), fill="black")
    assert [line["text"] for line in ocr(Frame.of(image))["text_lines"]] == [text]


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_ocr_reads_a_turned_photo(ocr: OcrEnricher, angle: int) -> None:
    fields = ocr(Frame.of(sign_photo().rotate(angle, expand=True)))
    assert sorted(line["text"] for line in fields["text_lines"]) == ["RE16 TGK", "中山路出口"]


@pytest.mark.parametrize("name", ["chelsea", "coins", "retina"])
def test_ocr_reads_nothing_on_a_photo_without_text(ocr: OcrEnricher, name: str) -> None:
    """On coins and a retina the model 'reads' an 'O' at ~0.2; the threshold drops it."""
    image = photo(name).convert("RGB")
    assert ocr(Frame.of(image)) == ocr.empty()


# Real photos (GCompris's tools, fishes, tableware, monuments) on which the model "reads" one
# glyph at >= 0.8: a hammer as "T" at 1.00, a fish as "一", knife, fork and spoon as "三", a
# sickle as "C", the Capitol's columns as "111", a windmill as "X".
SHAPES_READ_AS_GLYPHS = (
    ("tools", "hammer7"),
    ("tools", "sickle"),
    ("fishes", "fish27"),
    ("others", "knife"),
    ("monuments", "usCapitol"),
    ("monuments", "christTheRedeemer"),
    ("renewable", "windmill11"),
)


@pytest.mark.skipif(not RCC_DIR.is_dir(), reason="needs Debian gcompris-qt-data")
@pytest.mark.parametrize(("folder", "stem"), SHAPES_READ_AS_GLYPHS)
def test_ocr_reads_no_lone_glyph_in_an_objects_shape(
    ocr: OcrEnricher, folder: str, stem: str
) -> None:
    image = Image.open(io.BytesIO(photos("categorization", f"images/{folder}")[stem]))
    assert ocr(Frame.of(image.convert("RGB"))) == ocr.empty()


def _line(text: str, score: float, area: float = 0.01) -> dict[str, object]:
    return {"text": text, "score": score, "box": [0.1, 0.1, 0.1 + area / 0.5, 0.6]}


def test_short_and_lone_glyph_lines_need_more() -> None:
    def kept(*lines: dict[str, object]) -> list[object]:
        return [line["text"] for line in accepted(list(lines), min_score=0.8)]

    assert kept(_line("出口", 0.82), _line("Main Street", 0.81)) == ["出口", "Main Street"]
    assert kept(_line("WC", 0.95)) == ["WC"]
    assert kept(_line("WC", 0.85)) == []  # short: 0.9 needed
    assert kept(_line("23", 0.99, area=0.45)) == []  # short, and fills half the picture
    assert kept(_line("T", 1.0)) == []  # a lone glyph alone
    assert kept(_line("一", 0.99), _line("111", 0.99)) == []
    assert kept(_line("3", 1.0), _line("CRAFTSMAN", 0.89)) == ["3", "CRAFTSMAN"]
    assert kept(_line("3", 1.0, area=0.5), _line("CRAFTSMAN", 0.89)) == ["CRAFTSMAN"]
    assert kept(_line("...", 0.99), _line("0.0.0", 0.85), _line("RE16", 0.7)) == []


def test_near_square_boxes_over_much_of_the_image_are_not_read() -> None:
    def quad(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)

    assert not may_hold_a_line(quad(0, 0, 800, 600), 800, 600)  # the whole photo
    assert not may_hold_a_line(quad(100, 100, 560, 480), 800, 600)  # a glyph's shape, 36 %
    assert may_hold_a_line(quad(100, 100, 300, 250), 800, 600)  # small: a glyph may stand there
    assert may_hold_a_line(quad(0, 100, 800, 400), 800, 600)  # a wide line, half the photo
    assert may_hold_a_line(quad(100, 0, 300, 600), 800, 600)  # a tall (sideways) line


def test_ocr_detects_in_full_only_where_a_glance_sees_text(ocr: OcrEnricher) -> None:
    detector = ocr.load().text_det
    full, calls = detector.detector, []

    class Counted:  # the rapidocr detector, counting its full-size passes
        mean, std, session = full.mean, full.std, full.session

        def __call__(self, image: np.ndarray) -> object:
            calls.append(image.shape)
            return full(image)

    detector.detector = Counted()
    try:
        assert ocr(Frame.of(photo("chelsea"))) == ocr.empty() and calls == []
        assert ocr(Frame.of(sign_photo()))["text_count"] == 2 and len(calls) == 1
    finally:
        detector.detector = full


def test_ocr_keeps_only_confident_lines(ocr: OcrEnricher) -> None:
    """skimage's scanned page: a clear heading, and smudged lines read as gibberish below 0.8."""
    fields = ocr(Frame.of(photo("page").convert("RGB")))
    assert "Region-based segmentation" in [line["text"] for line in fields["text_lines"]]
    assert all(line["score"] >= 0.8 for line in fields["text_lines"])


def test_frames_share_one_decode_at_the_sizes_asked() -> None:
    image = photo("chelsea")  # 451 x 300
    frame = Frame.of(image)
    assert (frame.width, frame.height) == image.size  # small enough: not resampled
    assert Frame.of(image.resize((2000, 1330))).width == 1024
    # 300 * 64 / 451 = 42.6: rounded, as shrink's last (bilinear) step sizes it
    assert frame.small(64).shape == (43, 64, 3) and frame.small(64, gray=True).shape == (43, 64)
    assert frame.small(64) is frame.small(64)  # made once
    assert frame.small(1000) is frame.rgb
    flat = np.full((600, 800, 3), 77, np.uint8)
    assert shrink(flat, 256).shape == (192, 256, 3) and int(shrink(flat, 256).max()) == 77


def test_shrink_averages_fine_detail_and_takes_odd_and_thin_sizes() -> None:
    stripes = np.zeros((601, 801, 3), np.uint8)
    stripes[:, ::2] = 255  # one-pixel stripes: averaged, mid-grey; sampled, black or white
    small = shrink(stripes, 64)
    assert small.shape == (48, 64, 3)
    assert int(small.min()) > 100 and int(small.max()) < 155
    assert shrink(np.zeros((60, 12000, 3), np.uint8), 64).shape == (1, 64, 3)
    assert shrink(np.zeros((3000, 7), np.uint8), 256).shape == (256, 1)


def test_faces_are_counted() -> None:
    faces = FaceEnricher()
    assert faces(Frame.of(photo("astronaut")))["faces"] == 1
    assert faces(Frame.of(photo("chelsea")))["faces"] == 0


def test_colours_brightness_night_and_black_and_white() -> None:
    colour = ColourEnricher()
    blue = Image.new("RGB", (200, 100), (20, 60, 200))
    fields = colour(Frame.of(blue))
    assert fields["colours"] == ["blue"] and fields["colours_zh"] == ["蓝色"]
    assert fields["night"] is False and fields["bw"] is False
    gray = photo("camera").convert("RGB")
    assert colour(Frame.of(gray))["bw"] is True
    dark = Image.fromarray((np.asarray(photo("chelsea")) // 8).astype(np.uint8))
    dark_fields = colour(Frame.of(dark))
    assert dark_fields["night"] is True and dark_fields["brightness"] < 0.1
    cat = colour(Frame.of(photo("chelsea")))
    assert cat["bw"] is False and "orange" in cat["colours"]


def test_the_runner_gathers_fields_and_alt_text() -> None:
    enrichers = build_enrichers(["ocr", "faces", "colour"])
    fields = enrichers.run(sign_photo())
    assert fields["ran"] == ["ocr", "faces", "colour"]
    assert fields["people"] == 0
    assert "RE16 TGK" in fields["alt"]["en"] and "中山路出口" in fields["alt"]["zh"]
    person = enrichers.run(photo("astronaut"))
    assert person["people"] == 1
    assert person["alt"]["en"].startswith("A photo of a person.")
    assert person["alt"]["zh"].startswith("一张照片，有一个人。")


@pytest.mark.parametrize("size", [(8, 8), (1, 400), (12000, 60), (3, 3000)])
def test_odd_images_get_empty_fields_never_an_error(size: tuple[int, int]) -> None:
    enrichers = build_enrichers(["ocr", "faces", "colour"])
    fields = enrichers.run(Image.new("RGB", size, (120, 30, 30)))
    assert set(fields) == set(enrichers.empty()) | {"alt"}
    assert fields["text"] == "" and fields["text_lines"] == []


def test_no_enrichers_means_no_fields() -> None:
    assert Enrichers([]).run(sign_photo()) == {
        "enrichers": [],
        "ran": [],
        "people": None,
        "alt": {"en": "", "zh": ""},
    }


def test_unknown_or_missing_enrichers_are_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown enricher"):
        build_enrichers(["ocr", "telepathy"])
