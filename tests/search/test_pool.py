"""``search.encoders.pool.EncoderPool``: one encoder per model id, built lazily from a spec;
a model id read from a collection stamp maps back to the spec that makes it; one batcher per
model, closed with the pool."""

from __future__ import annotations

import pytest

from loupe.search.encoders import EncoderUnavailable
from loupe.search.encoders.pool import EncoderPool


@pytest.fixture
def pool() -> EncoderPool:
    return EncoderPool("bundled", device="cpu", batch_size=4, wait_ms=1)


def test_one_encoder_per_model_id(pool: EncoderPool) -> None:
    assert pool.register("bundled") is pool.default
    assert pool.get(pool.default.model_id) is pool.default
    assert pool.spec_of(pool.default.model_id) == "bundled"


def test_a_stamped_model_id_maps_back_to_its_spec(pool: EncoderPool) -> None:
    english = "bundled-effl0-mlm6-v2"  # what a collection reindexed to bundled:en holds
    assert pool.spec_of(english) == "bundled:en"
    encoder = pool.get(english)
    assert encoder.model_id == english and pool.get(english) is encoder
    with pytest.raises(EncoderUnavailable, match="no encoder produces model 'made-up-v9'"):
        pool.get("made-up-v9")


def test_one_batcher_per_model_closed_with_the_pool(pool: EncoderPool) -> None:
    batcher = pool.batcher(pool.default.model_id)
    assert pool.batcher(pool.default.model_id) is batcher and pool.batchers() == [batcher]
    pool.close()
    assert pool.batchers() == []
