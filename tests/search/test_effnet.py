"""The shipped ONNX image tower: its provenance file, its licence, and agreement with torch.

The torch checks run wherever ``loupe[clip]`` is installed (the dev/test setup has it).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pytest
from PIL import Image

from loupe.search.encoders import effnet

PROVENANCE: dict[str, Any] = json.loads(effnet.shipped_file("effnet-lite0.json").read_text("utf-8"))


def _sample_photos() -> list[Image.Image]:
    """Nine real photos that scikit-image and scikit-learn ship."""
    from sklearn.datasets import load_sample_image

    data: Any = pytest.importorskip("skimage.data")
    arrays = [data.chelsea(), data.coffee(), data.astronaut(), data.rocket(), data.camera()]
    arrays += [data.hubble_deep_field(), data.stereo_motorcycle()[0]]
    arrays += [load_sample_image("china.jpg"), load_sample_image("flower.jpg")]
    return [Image.fromarray(pixels).convert("RGB") for pixels in arrays]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_shipped_graph_is_the_one_its_provenance_describes() -> None:
    graph = effnet.shipped_file(effnet.ONNX_NAME).read_bytes()
    assert PROVENANCE["graph"]["file"] == effnet.ONNX_NAME
    assert _sha256(graph) == PROVENANCE["graph"]["sha256"]
    assert len(PROVENANCE["source"]["weights_sha256"]) == 64


def test_licence_ships_next_to_the_graph() -> None:
    licence = effnet.shipped_file("effnet-lite0.LICENSE").read_text("utf-8")
    assert PROVENANCE["source"]["weights_sha256"] in licence
    assert "Apache License" in licence
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in licence


@pytest.fixture(scope="module")
def torch_tower() -> Any:
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite_pytorch")
    from loupe.search.encoders import effnet_torch

    return effnet_torch


def test_source_weights_are_the_recorded_ones(torch_tower: Any) -> None:
    weights = torch_tower.weights_path()
    assert weights.name == PROVENANCE["source"]["weights_file"]
    assert torch_tower.file_sha256(weights) == PROVENANCE["source"]["weights_sha256"]


@pytest.mark.slow
def test_onnx_agrees_with_torch_on_the_sample_photos(torch_tower: Any) -> None:
    batch = effnet.prepare_batch(_sample_photos())
    shipped = effnet.onnx_forward(effnet.onnx_session(threads=2), batch)
    reference = torch_tower.torch_forward(torch_tower.build_torch_model(), batch, device="cpu")
    np.testing.assert_allclose(shipped.logits, reference.logits, rtol=0, atol=1e-4)
    np.testing.assert_allclose(shipped.features, reference.features, rtol=0, atol=1e-4)
    top = shipped.logits.argmax(axis=1)
    np.testing.assert_array_equal(top, reference.logits.argmax(axis=1))
