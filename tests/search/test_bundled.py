"""The bundled encoder on real shipped weights and real sample photos (scikit-image, sklearn)."""

from __future__ import annotations

import importlib
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from loupe.search.encoders import Encoder, EncoderUnavailable, TextRole, make_encoder
from loupe.search.encoders.bundled import BundledEncoder
from tests.extras import needs_clip

pytestmark = pytest.mark.slow


def _gallery() -> dict[str, Image.Image]:
    from sklearn.datasets import load_sample_image

    data: Any = importlib.import_module("skimage.data")  # untyped module

    arrays = {
        "cat": data.chelsea(),
        "coffee": data.coffee(),
        "astronaut": data.astronaut(),
        "rocket": data.rocket(),
        "china": load_sample_image("china.jpg"),
        "flower": load_sample_image("flower.jpg"),
        "hubble": data.hubble_deep_field(),
        "horse": (data.horse() * 255).astype(np.uint8),
        "camera": data.camera(),
        "motorcycle": data.stereo_motorcycle()[0],
    }
    return {name: Image.fromarray(pixels).convert("RGB") for name, pixels in arrays.items()}


GALLERY = _gallery()
NAMES = list(GALLERY)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("loupe-cache")


@pytest.fixture(scope="module")
def encoder(cache_dir: Path) -> BundledEncoder:
    enc = BundledEncoder(device="cpu", cache_dir=cache_dir)
    enc.load()
    return enc


@pytest.fixture(scope="module")
def gallery_vectors(encoder: BundledEncoder) -> tuple[np.ndarray, np.ndarray]:
    vectors = encoder.encode_images(list(GALLERY.values()))
    assert vectors.visual is not None
    return vectors.semantic, vectors.visual


def _unit_rows(array: np.ndarray, dim: int) -> None:
    assert array.dtype == np.float32
    assert array.shape[1] == dim
    np.testing.assert_allclose(np.linalg.norm(array, axis=1), 1.0, atol=1e-4)


def test_contract_and_ids() -> None:
    default = BundledEncoder()
    assert isinstance(default, Encoder)
    assert default.variant == "use"  # measured default: best in English and Chinese (README)
    assert (default.dim, default.visual_dim) == (512, 1280)
    assert default.model_id == make_encoder("bundled").model_id == "bundled-effl0-usem3-v2"
    assert make_encoder("bundled:multi").model_id == "bundled-effl0-e5s-v2"
    with pytest.raises(EncoderUnavailable, match="variant"):
        BundledEncoder("klingon")


@needs_clip  # all-MiniLM-L6-v2 runs through sentence-transformers
def test_english_variant_has_its_own_id() -> None:
    english = BundledEncoder("en")
    assert english.model_id != BundledEncoder().model_id
    assert make_encoder("bundled:en").model_id == english.model_id


def test_texts_are_unit_float32(encoder: BundledEncoder) -> None:
    queries = encoder.encode_texts(["a cat", "一只可爱的猫咪", "food"])
    passages = encoder.encode_texts(["a cat"], role=TextRole.PASSAGE)
    _unit_rows(queries, 512)
    _unit_rows(passages, 512)
    assert queries.shape[0] == 3
    assert encoder.encode_texts([]).shape == (0, 512)
    assert encoder.device == "cpu"


def test_images_give_semantic_and_visual(
    encoder: BundledEncoder, gallery_vectors: tuple[np.ndarray, np.ndarray]
) -> None:
    semantic, visual = gallery_vectors
    assert semantic.shape[0] == visual.shape[0] == len(GALLERY)
    _unit_rows(semantic, 512)
    _unit_rows(visual, 1280)
    empty = encoder.encode_images([])
    assert empty.semantic.shape == (0, 512)
    assert empty.visual is not None
    assert empty.visual.shape == (0, 1280)


# Dense route only. "an astronaut" is not here: ImageNet has no class for a person, and in the
# USE space the query is nearest the rocket's "space shuttle" (e5 ranked the astronaut first by
# 0.003); the service's other evidence (faces, objects) is what finds people.
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a cat", "cat"),
        ("a cup of coffee", "coffee"),
        ("a rocket", "rocket"),
        ("a flower", "flower"),
        ("a motorcycle", "motorcycle"),
        ("a drink", "coffee"),
        ("一只可爱的猫咪", "cat"),
        ("一杯咖啡", "coffee"),
        ("火箭", "rocket"),
        ("摩托车", "motorcycle"),
    ],
)
def test_text_finds_the_photo(
    encoder: BundledEncoder,
    gallery_vectors: tuple[np.ndarray, np.ndarray],
    query: str,
    expected: str,
) -> None:
    scores = gallery_vectors[0] @ encoder.encode_texts([query])[0]
    assert NAMES[int(scores.argmax())] == expected


def test_broad_queries_rank_the_right_kind_first(
    encoder: BundledEncoder, gallery_vectors: tuple[np.ndarray, np.ndarray]
) -> None:
    scores = gallery_vectors[0] @ encoder.encode_texts(["an animal"])[0]
    assert NAMES[int(scores.argmax())] in {"cat", "horse"}


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer)


def _crop(image: Image.Image, keep: float) -> Image.Image:
    width, height = image.size
    dx, dy = int(width * (1 - keep) / 2), int(height * (1 - keep) / 2)
    return image.crop((dx, dy, width - dx, height - dy))


@pytest.mark.parametrize("name", NAMES)
def test_edited_photo_finds_itself_by_visual_vector(
    encoder: BundledEncoder, gallery_vectors: tuple[np.ndarray, np.ndarray], name: str
) -> None:
    original = GALLERY[name]
    edited = [_jpeg(original, 60), _crop(original, 0.9)]
    visual = encoder.encode_images(edited).visual
    assert visual is not None
    for row in visual:
        assert NAMES[int((gallery_vectors[1] @ row).argmax())] == name


def test_prepare_images_is_thread_safe(encoder: BundledEncoder) -> None:
    images = list(GALLERY.values())
    sequential = encoder.prepare_images(images)
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda img: encoder.prepare_images([img]), images))
    np.testing.assert_array_equal(np.concatenate(parallel), sequential)
    assert sequential.shape == (len(images), 3, 224, 224)
    assert sequential.min() >= -1.0
    assert sequential.max() <= 1.0


def test_loads_the_shipped_graph_and_writes_nothing(tmp_path: Path) -> None:
    fresh = BundledEncoder(device="cpu", cache_dir=tmp_path / "cache")
    images = list(GALLERY.values())[:3]
    semantic = fresh.encode_images(images).semantic
    assert semantic.shape == (3, 512)
    assert not (tmp_path / "cache").exists()  # no export, no class vectors built at run time
