"""``clip_pixels.PixelRecipe``: the uint8 path gives the CLIP processor's pixels and vectors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from loupe.bench.clip_weights import save_random_clip
from loupe.search.encoders.clip import ClipEncoder
from loupe.search.encoders.clip_pixels import PIXELS, PixelRecipe, image_processor
from tests.extras import needs_clip

pytestmark = needs_clip


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> ClipEncoder:
    folder = save_random_clip(tmp_path_factory.mktemp("clip"), image_size=48, patch_size=8)
    built = ClipEncoder(str(folder), device="cpu", batch_size=4)
    built.load()
    return built


def _photos() -> list[Image.Image]:
    rng = np.random.default_rng(3)
    # after the resize, (77, 50) and (50, 77) leave an odd margin to crop: offsets must agree
    sizes = [(400, 300), (300, 400), (48, 48), (97, 61), (20, 90), (77, 50), (50, 77), (1600, 1200)]
    photos = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for w, h in sizes]
    photos.append(Image.new("L", (70, 50), 120))
    photos.append(Image.new("RGBA", (64, 80), (200, 30, 10, 90)))
    return photos


def _processor_pixels(encoder: ClipEncoder, photos: list[Image.Image]) -> np.ndarray:
    model = encoder._model
    assert model is not None
    rgb = [photo.convert("RGB") for photo in photos]
    return np.asarray(model.preprocess(rgb)["pixel_values"], dtype=np.float32)


def test_the_recipe_is_read_from_the_processor(encoder: ClipEncoder) -> None:
    assert encoder._model is not None
    recipe = PixelRecipe.of(image_processor(encoder._model))
    assert recipe is not None
    assert (recipe.short_edge, recipe.crop) == (48, (48, 48))


def test_same_pixels_as_the_clip_processor(encoder: ClipEncoder) -> None:
    photos = _photos()
    prepared = encoder.prepare_images(photos)
    assert set(prepared.features) == {PIXELS} and prepared.count == len(photos)
    recipe = encoder._recipe
    assert recipe is not None
    import torch

    ours = recipe.normalise(prepared.features[PIXELS], dtype=torch.float32)
    np.testing.assert_allclose(ours.numpy(), _processor_pixels(encoder, photos), atol=1e-5)


def test_same_vectors_as_the_clip_processor(encoder: ClipEncoder) -> None:
    import torch

    photos = _photos()
    ours = encoder.encode_images(photos).semantic
    model = encoder._model
    assert model is not None
    features = dict(model.preprocess([photo.convert("RGB") for photo in photos]))
    with torch.inference_mode():
        theirs = model(features)["sentence_embedding"]
    theirs = torch.nn.functional.normalize(theirs.float(), dim=-1).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_a_processor_the_recipe_cannot_reproduce_gets_none() -> None:
    base = {
        "do_resize": True,
        "do_center_crop": True,
        "do_rescale": True,
        "do_normalize": True,
        "size": {"shortest_edge": 224},
        "crop_size": {"height": 224, "width": 224},
        "resample": 3,
        "rescale_factor": 1 / 255,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
    }
    assert PixelRecipe.of(base) is not None
    assert PixelRecipe.of({**base, "size": {"height": 224, "width": 224}}) is None
    assert PixelRecipe.of({**base, "do_center_crop": False}) is None
    assert PixelRecipe.of({**base, "crop_size": {"height": 256, "width": 256}}) is None
    assert PixelRecipe.of(None) is None


def test_without_uint8_pixels_the_processor_prepares_the_same_vectors(
    encoder: ClipEncoder,
) -> None:
    photos = _photos()
    processor = ClipEncoder(encoder._name, device="cpu", batch_size=4, uint8_pixels=False)
    prepared = processor.prepare_images(photos)
    assert "pixel_values" in prepared.features and PIXELS not in prepared.features
    fallback = processor.embed_prepared(prepared).semantic
    np.testing.assert_allclose(encoder.encode_images(photos).semantic, fallback, atol=1e-5)


def test_the_image_batcher_joins_two_requests_batches(encoder: ClipEncoder) -> None:
    from loupe.search.encoders.image_batcher import concat_prepared

    photos = _photos()
    first, second = encoder.prepare_images(photos[:3]), encoder.prepare_images(photos[3:])
    joined = concat_prepared([first, second])
    assert joined.count == len(photos)
    np.testing.assert_allclose(
        encoder.embed_prepared(joined).semantic, encoder.encode_images(photos).semantic, atol=1e-5
    )
