"""The encoder contract: texts and images into one L2-normalised vector space.

An encoder has a ``model_id`` (stamped on every collection it fills), the ``dim`` of its shared
(``semantic``) space, and optionally a ``visual_dim`` for a second, image-only vector used for
image→image similarity. Loading is lazy and guarded by a lock, so constructing an encoder is
cheap and thread-safe; the first encode call (or ``load()``) pays for the weights.

Image encoding is split in two so that CPU decoding/resizing can overlap the forward pass:
``prepare_images`` (CPU, thread-safe, no model needed) and ``embed_prepared`` (the forward pass).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from PIL import Image

Vectors = NDArray[np.float32]


class TextRole(StrEnum):
    """What a text is for: some text towers embed queries and stored passages differently."""

    QUERY = "query"
    PASSAGE = "passage"


@dataclass(frozen=True, slots=True)
class ImageVectors:
    """Vectors of a batch of images: ``semantic`` (n × dim), optional ``visual``, and optional
    ``concepts`` (per image, concept id → probability, for the ``concepts`` sparse vector)."""

    semantic: Vectors
    visual: Vectors | None = None
    concepts: list[dict[int, float]] | None = None


class EncoderUnavailable(RuntimeError):
    """The encoder cannot be loaded (weights missing, bad path): a start-up error."""


@runtime_checkable
class Encoder(Protocol):
    """What every encoder family implements. All returned vectors are float32, unit length."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def visual_dim(self) -> int | None: ...

    @property
    def device(self) -> str: ...

    def load(self) -> None:
        """Load the weights now (idempotent, thread-safe). Raises EncoderUnavailable."""

    def encode_texts(self, texts: Sequence[str], *, role: TextRole = TextRole.QUERY) -> Vectors:
        """Embed texts into the shared space: an (n, dim) float32 array of unit rows."""

    def prepare_images(self, images: Sequence[Image.Image]) -> Any:
        """CPU-side preprocessing of RGB images into whatever ``embed_prepared`` takes."""

    def embed_prepared(self, prepared: Any) -> ImageVectors:
        """The forward pass over a prepared batch."""

    def encode_images(self, images: Sequence[Image.Image]) -> ImageVectors:
        """``embed_prepared(prepare_images(images))`` in batches of the configured size."""


def l2_normalise(vectors: NDArray[Any]) -> Vectors:
    """Rows scaled to unit length, as float32; zero rows stay zero."""
    out = np.asarray(vectors, dtype=np.float32)
    if out.ndim == 1:
        out = out[None, :]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    result: Vectors = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
    return result


CLIP_EXTRA = "pip install 'loupe[clip]'"
_TORCH_STACK = ("torch", "transformers", "sentence_transformers")


def require_torch_stack(what: str, *also: str) -> None:
    """Raise EncoderUnavailable naming the ``clip`` extra when ``what`` cannot run here.

    The default install has no torch; ``loupe[clip]`` adds torch, transformers and
    sentence-transformers (and the packages in ``also``). Only looks, never imports.
    """
    missing = [name for name in (*_TORCH_STACK, *also) if importlib.util.find_spec(name) is None]
    if missing:
        names = ", ".join(name.replace("_", "-") for name in missing)
        raise EncoderUnavailable(
            f"{what} needs {names}, which the default install leaves out: {CLIP_EXTRA}"
        )


def pick_device(requested: str = "auto") -> str:
    """``cuda`` when a GPU is visible and ``requested`` is auto, else what was asked for.

    Without torch (the default install) there is no CUDA path: ``auto`` is ``cpu`` and torch is
    not imported; ``cuda`` asks for the ``clip`` extra.
    """
    if requested == "cpu" or (requested == "auto" and importlib.util.find_spec("torch") is None):
        return "cpu"
    if requested.startswith("cuda"):
        require_torch_stack(f"LOUPE_DEVICE={requested}")
    import torch

    if requested != "auto":
        if requested.startswith("cuda") and not torch.cuda.is_available():
            raise EncoderUnavailable(f"LOUPE_DEVICE={requested} but no CUDA device is visible")
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


def empty_vectors(dim: int) -> Vectors:
    return np.zeros((0, dim), dtype=np.float32)
