"""Dataset loaders on real installed data and on generated folders."""

from __future__ import annotations

import gzip
import importlib.util
import pickle
from collections import Counter, OrderedDict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from loupe.bench.evaluation.datasets import (
    ANIMAL_MNIST_LABELS,
    FASHION_MNIST_DIR,
    FASHION_MNIST_LABELS,
    _read_pickled_array,
    load_dataset,
    photo_prompt,
    select_indices,
)
from loupe.search.errors import InvalidInput

needs_fashion = pytest.mark.skipif(
    not (FASHION_MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file(),
    reason="Fashion-MNIST not installed: apt-get install -y dataset-fashion-mnist",
)
needs_animal = pytest.mark.skipif(
    importlib.util.find_spec("animal_mnist") is None,
    reason="Animal-MNIST not installed: pip install --no-deps animal-mnist",
)


def test_select_indices_is_balanced_and_deterministic() -> None:
    labels = ["a"] * 5 + ["b"] * 5 + ["c"] * 2
    assert select_indices(labels).tolist() == list(range(12))
    picked = select_indices(labels, limit=6)
    assert Counter(labels[i] for i in picked) == {"a": 2, "b": 2, "c": 2}
    assert picked.tolist() == select_indices(labels, limit=6).tolist()
    assert picked.tolist() != select_indices(labels, limit=6, seed=1).tolist()
    per_class = select_indices(labels, per_class=3)
    assert Counter(labels[i] for i in per_class) == {"a": 3, "b": 3, "c": 2}
    assert len(set(per_class.tolist())) == 8
    with pytest.raises(InvalidInput):
        select_indices(labels, limit=0)


@pytest.mark.parametrize(
    ("label", "prompt"),
    [
        ("bear", "a photo of a bear"),
        ("elephant", "a photo of an elephant"),
        ("trousers", "a photo of trousers"),
        ("glass", "a photo of a glass"),
    ],
)
def test_photo_prompt(label: str, prompt: str) -> None:
    assert photo_prompt(label) == prompt


@needs_fashion
def test_fashion_mnist_full_test_split() -> None:
    data = load_dataset("fashion-mnist")
    assert len(data.images) == len(data.labels) == 10_000
    assert Counter(data.labels) == dict.fromkeys(FASHION_MNIST_LABELS, 1000)
    assert data.labels[0] == "ankle boot"  # the first Fashion-MNIST test item is class 9
    assert data.images[0].mode == "RGB"
    assert data.images[0].size == (28, 28)
    assert data.label_texts["t-shirt"] == "a photo of a t-shirt"


@needs_fashion
def test_fashion_mnist_slice_is_balanced_and_repeatable() -> None:
    first = load_dataset("fashion-mnist", limit=20)
    again = load_dataset("fashion-mnist", limit=20)
    assert Counter(first.labels) == dict.fromkeys(FASHION_MNIST_LABELS, 2)
    assert first.labels == again.labels
    assert all(
        np.array_equal(np.asarray(a), np.asarray(b))
        for a, b in zip(first.images, again.images, strict=True)
    )
    assert set(first.label_texts) == set(FASHION_MNIST_LABELS)
    assert any(np.asarray(image).max() > 0 for image in first.images)


@needs_animal
def test_animal_mnist_per_class_slice() -> None:
    data = load_dataset("animal-mnist", per_class=3)
    assert Counter(data.labels) == dict.fromkeys(ANIMAL_MNIST_LABELS, 3)
    assert {image.size for image in data.images} == {(28, 28)}
    assert data.label_texts["elephant"] == "a photo of an elephant"
    pixels = np.stack([np.asarray(image) for image in data.images])
    assert pixels.min() == 0
    assert pixels.max() == 255  # white silhouettes on black


def test_array_unpickler_refuses_anything_but_numpy_arrays(tmp_path: Path) -> None:
    path = tmp_path / "evil.gz"
    with gzip.open(path, "wb") as handle:
        pickle.dump(OrderedDict(a=1), handle)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        _read_pickled_array(path)
    good = tmp_path / "good.gz"
    with gzip.open(good, "wb") as handle:
        pickle.dump(np.arange(6, dtype=np.uint8).reshape(2, 3), handle)
    assert _read_pickled_array(good).tolist() == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize("name", ["samples", "samples-zh"])
def test_samples_are_real_photos_each_its_own_label(name: str) -> None:
    data = load_dataset(name)
    assert len(data.images) == len(set(data.labels)) == 19
    assert set(data.label_texts) == set(data.labels)
    assert data.images[data.labels.index("chelsea")].size == (451, 300)
    assert all(image.mode == "RGB" for image in data.images)
    captions = " ".join(data.label_texts.values())
    assert ("猫" in captions) == (name == "samples-zh")
    assert len(load_dataset(name, limit=5).images) == 5


def _write_folder(root: Path, colours: dict[str, list[tuple[int, int, int]]]) -> None:
    for label, pixels in colours.items():
        (root / label).mkdir(parents=True)
        for i, rgb in enumerate(pixels):
            Image.new("RGB", (8, 8), rgb).save(root / label / f"{i}.png")


def test_folder_dataset(tmp_path: Path) -> None:
    _write_folder(tmp_path, {"red_apple": [(255, 0, 0)] * 3, "sky-blue": [(0, 0, 255)] * 2})
    (tmp_path / "red_apple" / "notes.txt").write_text("not an image")
    data = load_dataset(f"folder:{tmp_path}")
    assert data.labels == ["red_apple"] * 3 + ["sky-blue"] * 2
    assert data.label_texts == {
        "red_apple": "a photo of a red apple",
        "sky-blue": "a photo of a sky blue",
    }
    assert np.asarray(data.images[0])[0, 0].tolist() == [255, 0, 0]
    assert np.asarray(data.images[-1])[0, 0].tolist() == [0, 0, 255]
    assert Counter(load_dataset(f"folder:{tmp_path}", per_class=1).labels) == {
        "red_apple": 1,
        "sky-blue": 1,
    }


def test_bad_names_and_folders_are_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown dataset"):
        load_dataset("imagenet")
    with pytest.raises(InvalidInput, match="no such directory"):
        load_dataset(f"folder:{tmp_path / 'missing'}")
    with pytest.raises(InvalidInput, match="no images"):
        load_dataset(f"folder:{tmp_path}")
