from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from loupe.bench.clip_weights import save_random_clip
from loupe.search.encoders import EncoderUnavailable, ImageVectors, TextRole, make_encoder
from loupe.search.encoders.clip import ClipEncoder
from tests.extras import needs_clip

pytestmark = needs_clip

DIM = 24


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_random_clip(tmp_path_factory.mktemp("clip"), projection_dim=DIM, seed=0)


@pytest.fixture(scope="module")
def encoder(clip_dir: Path) -> ClipEncoder:
    built = make_encoder(f"clip:{clip_dir}", device="cpu", batch_size=2)
    assert isinstance(built, ClipEncoder)
    return built


def _images() -> list[Image.Image]:
    rng = np.random.default_rng(7)
    sizes = [(50, 40), (32, 32), (90, 61), (40, 120), (64, 64)]
    images = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for w, h in sizes]
    images.append(Image.new("L", (48, 48), 200))
    images.append(Image.new("RGBA", (40, 30), (10, 200, 30, 128)))
    return images


TEXTS = ["the cat", "a dog on the sofa", "x", "the cat " * 100, "猫"]


def _assert_unit_rows(vectors: np.ndarray, count: int) -> None:
    assert vectors.shape == (count, DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_identity_and_dimensions(encoder: ClipEncoder, clip_dir: Path) -> None:
    assert encoder.model_id == f"clip:{clip_dir}"
    assert encoder.device == "cpu"
    assert encoder.dim == DIM
    assert encoder.visual_dim is None


def test_texts_are_unit_vectors_and_long_texts_are_truncated(encoder: ClipEncoder) -> None:
    vectors = encoder.encode_texts(TEXTS)
    _assert_unit_rows(vectors, len(TEXTS))
    assert not np.allclose(vectors[0], vectors[1], atol=1e-3)
    passages = encoder.encode_texts(TEXTS, role=TextRole.PASSAGE)
    np.testing.assert_allclose(passages, vectors, atol=1e-6)


def test_images_are_unit_vectors_in_any_mode(encoder: ClipEncoder) -> None:
    result = encoder.encode_images(_images())
    assert isinstance(result, ImageVectors)
    assert result.visual is None
    _assert_unit_rows(result.semantic, len(_images()))
    assert not np.allclose(result.semantic[0], result.semantic[1], atol=1e-3)


def test_batching_matches_one_by_one(encoder: ClipEncoder) -> None:
    images = _images()
    together = encoder.encode_images(images).semantic
    alone = np.concatenate([encoder.encode_images([image]).semantic for image in images])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    texts = encoder.encode_texts(TEXTS)
    single_texts = np.concatenate([encoder.encode_texts([text]) for text in TEXTS])
    np.testing.assert_allclose(texts, single_texts, atol=1e-5)


def test_prepare_then_embed_equals_encode_images(encoder: ClipEncoder) -> None:
    images = _images()
    prepared = encoder.prepare_images(images)
    assert prepared.count == len(images)
    embedded = encoder.embed_prepared(prepared).semantic
    np.testing.assert_allclose(embedded, encoder.encode_images(images).semantic, atol=1e-6)


def test_empty_inputs_give_empty_arrays(encoder: ClipEncoder) -> None:
    assert encoder.encode_texts([]).shape == (0, DIM)
    assert encoder.encode_images([]).semantic.shape == (0, DIM)
    assert encoder.embed_prepared(encoder.prepare_images([])).semantic.shape == (0, DIM)


def test_same_folder_gives_same_vectors_in_a_new_encoder(
    encoder: ClipEncoder, clip_dir: Path
) -> None:
    other = ClipEncoder(str(clip_dir), device="cpu", batch_size=3)
    np.testing.assert_allclose(other.encode_texts(TEXTS), encoder.encode_texts(TEXTS), atol=1e-5)


def test_separate_text_tower_embeds_the_texts(
    encoder: ClipEncoder, clip_dir: Path, tmp_path: Path
) -> None:
    text_dir = save_random_clip(tmp_path / "text", projection_dim=DIM, seed=1)
    paired = make_encoder(f"clip:{clip_dir}", device="cpu", clip_text_model=str(text_dir))
    assert paired.model_id == f"clip:{clip_dir}+text:{text_dir}"
    text_only = ClipEncoder(str(text_dir), device="cpu")
    np.testing.assert_allclose(paired.encode_texts(TEXTS), text_only.encode_texts(TEXTS), atol=1e-5)
    assert not np.allclose(paired.encode_texts(TEXTS), encoder.encode_texts(TEXTS), atol=1e-3)
    np.testing.assert_allclose(
        paired.encode_images(_images()).semantic,
        encoder.encode_images(_images()).semantic,
        atol=1e-5,
    )


def test_text_tower_of_another_width_is_refused(clip_dir: Path, tmp_path: Path) -> None:
    text_dir = save_random_clip(tmp_path / "wide", projection_dim=DIM + 8)
    paired = ClipEncoder(str(clip_dir), text_model=str(text_dir), device="cpu")
    with pytest.raises(EncoderUnavailable, match="not one space"):
        paired.load()


@pytest.mark.parametrize(
    "spec", ["clip:/no/such/folder", "clip:loupe-test-model-that-is-not-cached"]
)
def test_missing_weights_name_the_offline_alternative(spec: str) -> None:
    missing = make_encoder(spec, device="cpu")
    with pytest.raises(EncoderUnavailable, match="LOUPE_MODEL=bundled"):
        missing.load()


def test_a_folder_without_a_model_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(EncoderUnavailable, match="LOUPE_MODEL=bundled"):
        ClipEncoder(str(tmp_path), device="cpu").load()
