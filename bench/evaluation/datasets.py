"""Labelled image sets for ``loupe eval DATASET``, read from locally installed packages.

Every loader returns an :class:`EvalDataset` ``(images, labels, label_texts)``: RGB PIL images,
one label per image, and for every label the text that queries it (``"a photo of a bear"``).

Names ``load_dataset`` accepts:

- ``fashion-mnist``: the 10,000 test images of Fashion-MNIST, from the Debian package
  ``dataset-fashion-mnist`` (``apt-get install -y dataset-fashion-mnist``).
- ``animal-mnist``: the 10,000 animal silhouettes (28x28) of the PyPI package ``animal-mnist``
  (``pip install --no-deps animal-mnist``; its data is read directly, never imported).
- ``samples`` / ``samples-zh``: 19 real photos shipped with scikit-image and scikit-learn, each
  its own label, with English / Chinese captions.
- ``folder:<path>``: ``<path>/<label>/*.{jpg,jpeg,png,webp,bmp,gif,tif,tiff}``.

Slices are deterministic: see :func:`select_indices`.
"""

from __future__ import annotations

import gzip
import importlib
import importlib.util
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from loupe.bench.evaluation.samples import load_sample, sample_labels, sample_texts
from loupe.search.errors import InvalidInput, NotFound

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_LABELS = (
    "t-shirt", "trousers", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)  # fmt: skip
ANIMAL_MNIST_LABELS = (
    "bear", "bird", "cat", "cow", "dog", "elephant", "giraffe", "horse", "sheep", "zebra",
)  # fmt: skip
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
DATASET_NAMES = ("fashion-mnist", "animal-mnist", "samples", "samples-zh", "folder:<path>")


class EvalDataset(NamedTuple):
    images: list[Image.Image]
    labels: list[str]
    label_texts: dict[str, str]


class DatasetUnavailable(NotFound):
    """The dataset's package is not installed; the message says how to install it."""


def photo_prompt(label: str) -> str:
    """``"a photo of a bear"``, ``"a photo of an elephant"``, ``"a photo of trousers"``."""
    if label.endswith("s") and not label.endswith("ss"):
        return f"a photo of {label}"
    article = "an" if label[:1].lower() in "aeiou" else "a"
    return f"a photo of {article} {label}"


def select_indices(
    labels: Sequence[str] | NDArray[Any],
    *,
    limit: int | None = None,
    per_class: int | None = None,
    seed: int = 0,
) -> NDArray[np.intp]:
    """Indices of a deterministic, class-balanced slice.

    With neither ``limit`` nor ``per_class``: every index in order. Otherwise the items of each
    label are shuffled with ``seed``, cut to ``per_class``, and dealt round-robin across the
    sorted labels, then cut to ``limit``: so ``limit=20`` over 10 labels takes 2 of each.
    """
    array = np.asarray(labels)
    if limit is None and per_class is None:
        return np.arange(len(array), dtype=np.intp)
    if (limit is not None and limit < 1) or (per_class is not None and per_class < 1):
        raise InvalidInput("limit and per_class must be at least 1")
    order = np.random.default_rng(seed).permutation(len(array))
    queues = [order[array[order] == label][:per_class] for label in sorted(set(array.tolist()))]
    longest = max((len(queue) for queue in queues), default=0)
    dealt = [int(queue[i]) for i in range(longest) for queue in queues if i < len(queue)]
    return np.asarray(dealt[:limit], dtype=np.intp)


def _read_idx(path: Path) -> NDArray[np.uint8]:
    """An IDX file (the MNIST format): big-endian header, then unsigned bytes."""
    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    zero, dtype_code, ndim = raw[0] * 256 + raw[1], raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08:
        raise ValueError("not an unsigned-byte IDX file")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _gray_images(pixels: NDArray[np.uint8], indices: NDArray[np.intp]) -> list[Image.Image]:
    return [Image.fromarray(np.ascontiguousarray(pixels[i])).convert("RGB") for i in indices]


def _from_arrays(
    pixels: NDArray[np.uint8],
    codes: NDArray[Any],
    names: Sequence[str],
    *,
    limit: int | None,
    per_class: int | None,
    seed: int,
) -> EvalDataset:
    labels = np.asarray(names)[np.asarray(codes, dtype=np.intp)]
    chosen = select_indices(labels, limit=limit, per_class=per_class, seed=seed)
    texts = {name: photo_prompt(name) for name in names if name in set(labels[chosen].tolist())}
    return EvalDataset(_gray_images(pixels, chosen), labels[chosen].tolist(), texts)


def load_fashion_mnist(
    *,
    limit: int | None = None,
    per_class: int | None = None,
    seed: int = 0,
    root: Path = FASHION_MNIST_DIR,
) -> EvalDataset:
    """The Fashion-MNIST test split (10,000 images, 10 labels)."""
    images, labels = root / "t10k-images-idx3-ubyte.gz", root / "t10k-labels-idx1-ubyte.gz"
    if not (images.is_file() and labels.is_file()):
        raise DatasetUnavailable(
            "fashion-mnist is not installed: apt-get install -y dataset-fashion-mnist"
        )
    return _from_arrays(
        _read_idx(images),
        _read_idx(labels),
        FASHION_MNIST_LABELS,
        limit=limit,
        per_class=per_class,
        seed=seed,
    )


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain numpy arrays and nothing else (no arbitrary code)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in {("numpy", "ndarray"), ("numpy", "dtype")}:
            return getattr(np, name)
        if module in {"numpy.core.multiarray", "numpy._core.multiarray"} and name == "_reconstruct":
            try:
                multiarray = importlib.import_module("numpy._core.multiarray")
            except ImportError:  # numpy < 2
                multiarray = importlib.import_module("numpy.core.multiarray")
            return multiarray._reconstruct
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")


def _animal_mnist_dir() -> Path:
    spec = importlib.util.find_spec("animal_mnist")  # locates, does not import (no tensorflow)
    if spec is None or not spec.submodule_search_locations:
        raise DatasetUnavailable(
            "animal-mnist is not installed: pip install --no-deps animal-mnist"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "Animal_MNIST"


def _read_pickled_array(path: Path) -> NDArray[Any]:
    with gzip.open(path, "rb") as handle:
        array = _ArrayUnpickler(handle).load()
    if not isinstance(array, np.ndarray):
        raise ValueError("expected a pickled numpy array")
    return array


def load_animal_mnist(
    *, limit: int | None = None, per_class: int | None = None, seed: int = 0
) -> EvalDataset:
    """Animal-MNIST: 10,000 28x28 silhouettes, 1,000 of each of 10 animals."""
    folder = _animal_mnist_dir()
    pixels = _read_pickled_array(folder / "animal_data_version_3.gz").astype(np.uint8)
    codes = _read_pickled_array(folder / "animal_label_version_3.gz")
    return _from_arrays(
        pixels, codes, ANIMAL_MNIST_LABELS, limit=limit, per_class=per_class, seed=seed
    )


def load_samples(
    *, chinese: bool = False, limit: int | None = None, per_class: int | None = None, seed: int = 0
) -> EvalDataset:
    """The real photos of scikit-image and scikit-learn, each its own label and caption."""
    labels = sample_labels()
    chosen = [
        labels[i] for i in select_indices(labels, limit=limit, per_class=per_class, seed=seed)
    ]
    texts = sample_texts(chinese=chinese)
    return EvalDataset(
        [load_sample(label) for label in chosen], chosen, {label: texts[label] for label in chosen}
    )


def load_folder(
    root: Path, *, limit: int | None = None, per_class: int | None = None, seed: int = 0
) -> EvalDataset:
    """``root/<label>/<image>``: every sub-folder is a label, queried as ``"a photo of a <label>"``
    (underscores and dashes read as spaces)."""
    if not root.is_dir():
        raise InvalidInput("folder dataset: no such directory (expected folder:<path>/<label>/*)")
    paths: list[Path] = []
    labels: list[str] = []
    for label_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(label_dir.iterdir()):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                paths.append(path)
                labels.append(label_dir.name)
    if not paths:
        raise InvalidInput("folder dataset: no images in <path>/<label>/ sub-folders")
    chosen = select_indices(labels, limit=limit, per_class=per_class, seed=seed)
    images = []
    for i in chosen:
        with Image.open(paths[i]) as image:
            images.append(image.convert("RGB"))
    kept = [labels[i] for i in chosen]
    texts = {label: photo_prompt(label.replace("_", " ").replace("-", " ")) for label in kept}
    return EvalDataset(images, kept, texts)


def load_dataset(
    name: str, *, limit: int | None = None, per_class: int | None = None, seed: int = 0
) -> EvalDataset:
    """Load a dataset by the name ``loupe eval`` takes (see the module docstring).

    Raises :class:`DatasetUnavailable` when its package is missing and ``InvalidInput`` for an
    unknown name or an unusable folder.
    """
    if name == "fashion-mnist":
        return load_fashion_mnist(limit=limit, per_class=per_class, seed=seed)
    if name == "animal-mnist":
        return load_animal_mnist(limit=limit, per_class=per_class, seed=seed)
    if name in ("samples", "samples-zh"):
        chinese = name == "samples-zh"
        return load_samples(chinese=chinese, limit=limit, per_class=per_class, seed=seed)
    if name.startswith("folder:"):
        root = Path(name.removeprefix("folder:")).expanduser()
        return load_folder(root, limit=limit, per_class=per_class, seed=seed)
    raise InvalidInput(f"unknown dataset {name!r}: use one of {', '.join(DATASET_NAMES)}")
