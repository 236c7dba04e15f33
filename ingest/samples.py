"""The sample gallery: real photos that scikit-image and scikit-learn ship, written as JPEGs so
that a fresh install has something to search. Captions are ours, for tests and ``loupe eval``."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

# file stem → (where it comes from, an English caption)
SAMPLES: dict[str, tuple[str, str]] = {
    "cat": ("skimage:chelsea.png", "a cat"),
    "coffee": ("skimage:coffee.png", "a cup of coffee"),
    "astronaut": ("skimage:astronaut.png", "an astronaut"),
    "rocket": ("skimage:rocket.jpg", "a rocket on a launch pad"),
    "motorcycle": ("skimage:motorcycle_left.png", "a motorcycle"),
    "galaxies": ("skimage:hubble_deep_field.jpg", "galaxies in deep space"),
    "cameraman": ("skimage:camera.png", "a man with a camera on a tripod"),
    "coins": ("skimage:coins.png", "old coins"),
    "temple": ("sklearn:china.jpg", "a chinese temple"),
    "flower": ("sklearn:flower.jpg", "a flower"),
}


def _load(source: str) -> Image.Image:
    origin, _, name = source.partition(":")
    if origin == "skimage":
        import skimage.data

        path = Path(skimage.data.__file__).parent / name
        return Image.open(path).convert("RGB")
    from sklearn.datasets import load_sample_image

    return Image.fromarray(load_sample_image(name)).convert("RGB")


def write_samples(folder: Path, *, quality: int = 90) -> list[Path]:
    """Write the sample photos into ``folder`` (created), returning their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, (source, _) in SAMPLES.items():
        path = folder / f"{stem}.jpg"
        if not path.exists():
            _load(source).save(path, format="JPEG", quality=quality)
        paths.append(path)
    return paths
