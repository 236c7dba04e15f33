"""The ``samples`` datasets: real photos shipped inside scikit-image and scikit-learn.

Each photo is its own label, described by a caption written for it (English for ``samples``,
Chinese for ``samples-zh``), so text→image retrieval asks "which photo does this caption
describe?" among all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

# label: (English caption, Chinese caption)
CAPTIONS: dict[str, tuple[str, str]] = {
    "astronaut": ("an astronaut in an orange spacesuit", "穿橙色宇航服的宇航员"),
    "brick": ("a brick wall", "一面砖墙"),
    "camera": ("a man taking a photo with a camera on a tripod", "用三脚架上的相机拍照的男人"),
    "chelsea": ("a close-up of a tabby cat", "一只虎斑猫的特写"),
    "coffee": ("a cup of coffee on a saucer", "碟子上的一杯咖啡"),
    "coins": ("old coins laid out in rows", "排成几行的旧硬币"),
    "grass": ("a patch of grass", "一片草地"),
    "gravel": ("a pile of gravel", "一堆碎石"),
    "horse": ("a black silhouette of a horse", "一匹马的黑色剪影"),
    "hubble_deep_field": ("galaxies in deep space", "深空中的星系"),
    "immunohistochemistry": (
        "a stained tissue sample under a microscope",
        "显微镜下染色的组织切片",
    ),
    "moon": ("the cratered surface of the moon", "布满陨石坑的月球表面"),
    "page": ("a page of printed text", "一页印刷文字"),
    "retina": ("a photo of the retina of a human eye", "人眼视网膜的照片"),
    "rocket": ("a rocket on a launch pad at night", "夜晚发射台上的火箭"),
    "text": ("handwritten maths on a sheet of paper", "纸上的手写数学公式"),
    "motorcycle": ("a red motorcycle in a garage", "车库里的一辆红色摩托车"),
    "china": ("a Chinese pagoda above a lake", "湖边的中国古塔"),
    "flower": ("an orange dahlia flower", "一朵橙色的大丽花"),
}


SKIMAGE_FUNCTIONS = {"motorcycle": "stereo_motorcycle"}


def _skimage(name: str) -> Callable[[], NDArray[Any]]:
    def load() -> NDArray[Any]:
        import skimage.data

        loader: Callable[[], Any] = getattr(skimage.data, SKIMAGE_FUNCTIONS.get(name, name))
        loaded = loader()
        array: NDArray[Any] = loaded[0] if name == "motorcycle" else loaded  # (left, right, disp)
        return array

    return load


def _sklearn(filename: str) -> Callable[[], NDArray[Any]]:
    def load() -> NDArray[Any]:
        from sklearn.datasets import load_sample_image

        array: NDArray[Any] = load_sample_image(filename)
        return array

    return load


_LOADERS: dict[str, Callable[[], NDArray[Any]]] = {
    **{name: _skimage(name) for name in CAPTIONS if name not in ("china", "flower")},
    "china": _sklearn("china.jpg"),
    "flower": _sklearn("flower.jpg"),
}


def _to_rgb(array: NDArray[Any]) -> Image.Image:
    if array.dtype == np.bool_:
        array = np.where(array, 255, 0).astype(np.uint8)
    return Image.fromarray(np.asarray(array, dtype=np.uint8)).convert("RGB")


def sample_labels() -> list[str]:
    """The labels of the ``samples`` datasets, in a fixed order."""
    return list(CAPTIONS)


def load_sample(label: str) -> Image.Image:
    """The RGB photo named ``label``."""
    return _to_rgb(_LOADERS[label]())


def sample_texts(*, chinese: bool = False) -> dict[str, str]:
    """label → caption, English or Chinese."""
    return {label: pair[1] if chinese else pair[0] for label, pair in CAPTIONS.items()}
