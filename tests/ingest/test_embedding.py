"""The meaning of the text read in an image, mixed into its semantic vector."""

from __future__ import annotations

import numpy as np

from loupe.ingest.embedding import READ_TEXT_WEIGHT, read_text_vectors, with_read_text
from loupe.search.encoders import TextRole
from loupe.search.encoders.pool import EncoderPool


def test_nothing_read_leaves_the_vector_alone() -> None:
    vector = np.array([0.6, 0.8, 0.0], np.float32)
    assert with_read_text(vector, None) is vector


def test_the_text_read_pulls_the_vector_towards_its_meaning(encoders: EncoderPool) -> None:
    encoder = encoders.default
    image = encoder.encode_texts(["a photo of a brick wall"], role=TextRole.PASSAGE)[0]
    read = read_text_vectors(encoder, {"sign": "大药房", "blank": "  "})
    assert set(read) == {"sign"}
    mixed = with_read_text(np.asarray(image, np.float32), read["sign"])
    assert abs(float(np.linalg.norm(mixed)) - 1.0) < 1e-5
    query = np.asarray(encoder.encode_texts(["pharmacy"], role=TextRole.QUERY)[0], np.float32)
    assert float(mixed @ query) > float(np.asarray(image, np.float32) @ query)
    assert READ_TEXT_WEIGHT < 0.5  # the image stays mostly what it shows
