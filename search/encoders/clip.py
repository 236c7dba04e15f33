"""``clip:<name or folder>``: a real CLIP model through sentence-transformers, never downloaded.

``clip:clip-ViT-B-32`` names a sentence-transformers model that must already be in the local
Hugging Face cache; ``clip:/models/my-clip`` names a folder (a sentence-transformers save, or a
``transformers`` CLIPModel saved with its processor). An optional second text tower
(``text_model``, e.g. ``clip-ViT-B-32-multilingual-v1``, distilled into CLIP's space) embeds the
texts; CLIP's own image tower always embeds the images.

Decisions:
* ``visual_dim`` is ``None``: CLIP's image embedding *is* the shared-space vector, so a second
  copy would double storage for nothing; image→image search uses ``semantic``.
* On CUDA the weights are cast to float16 (``model.half()``, what OpenAI CLIP runs in); on CPU
  they stay float32. Outputs are always float32 unit rows. Photos are prepared as uint8 and
  normalised on the device (``clip_pixels``). A CUDA out-of-memory error halves the batch.
* Offline only: ``HF_HUB_OFFLINE=1`` is set when unset and ``local_files_only=True`` is always
  passed; missing weights raise ``EncoderUnavailable`` naming ``LOUPE_MODEL=bundled``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from loupe.search.encoders.base import (
    EncoderUnavailable,
    ImageVectors,
    TextRole,
    Vectors,
    empty_vectors,
    l2_normalise,
    pick_device,
    require_torch_stack,
)
from loupe.search.encoders.clip_pixels import (
    IMAGE,
    PIXELS,
    PixelRecipe,
    PreparedImages,
    image_processor,
)

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

_OFFLINE_HINT = (
    "Loupe never downloads weights: put the model in the local Hugging Face cache or give a "
    "folder (clip:/path/to/model), or use LOUPE_MODEL=bundled, which works offline."
)


class ClipEncoder:
    """A CLIP image tower (and CLIP or multilingual text tower) in one shared space.

    Construction is cheap; ``load()`` (or the first call that needs the model, ``dim`` included)
    reads the weights under a lock. Thread-safe after loading.
    """

    def __init__(
        self,
        name_or_path: str,
        *,
        text_model: str | None = None,
        device: str = "auto",
        batch_size: int = 32,
        uint8_pixels: bool = True,
    ) -> None:
        if not name_or_path:
            raise EncoderUnavailable("LOUPE_MODEL=clip: needs a model name or folder")
        require_torch_stack(f"clip:{name_or_path}")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._name = name_or_path
        self._text_name = text_model
        self._requested_device = device
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._device: str | None = None
        self._model: SentenceTransformer | None = None
        self._text: SentenceTransformer | None = None
        self._dim: int | None = None
        self._uint8_pixels = uint8_pixels  # False: the processor's float32 path (benchmarks)
        self._recipe: PixelRecipe | None = None

    @property
    def model_id(self) -> str:
        base = f"clip:{self._name}"
        return f"{base}+text:{self._text_name}" if self._text_name else base

    @property
    def dim(self) -> int:
        self.load()
        assert self._dim is not None
        return self._dim

    @property
    def visual_dim(self) -> int | None:
        return None

    @property
    def device(self) -> str:
        if self._device is None:
            self._device = pick_device(self._requested_device)
        return self._device

    def load(self) -> None:
        """Load the weights now (idempotent, thread-safe). Raises EncoderUnavailable."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            image_model = _load_sentence_transformer(self._name, self.device)
            if not image_model.supports("image"):
                raise EncoderUnavailable(f"clip:{self._name} has no image tower")
            _cap_text_length(image_model)
            dim = _embedding_dim(image_model, self._name)
            text_model = image_model
            if self._text_name is not None:
                text_model = _load_sentence_transformer(self._text_name, self.device)
                text_dim = _embedding_dim(text_model, self._text_name)
                if text_dim != dim:
                    raise EncoderUnavailable(
                        f"text model {self._text_name} embeds into {text_dim} dimensions but "
                        f"clip:{self._name} into {dim}: they are not one space"
                    )
            self._text = text_model
            self._dim = dim
            if self._uint8_pixels:
                self._recipe = PixelRecipe.of(image_processor(image_model))
            self._model = image_model

    def encode_texts(self, texts: Sequence[str], *, role: TextRole = TextRole.QUERY) -> Vectors:
        """Unit (n, dim) float32 rows; CLIP embeds queries and passages alike (``role`` unused)."""
        del role
        self.load()
        assert self._text is not None
        if not texts:
            return empty_vectors(self.dim)
        text_model = self._text

        items = list(texts)

        def run(start: int, stop: int) -> Vectors:
            out = text_model.encode(
                items[start:stop],
                batch_size=stop - start,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            return l2_normalise(np.asarray(out, dtype=np.float32))

        return _in_batches(len(items), self._batch_size, run)

    def prepare_images(self, images: Sequence[Image.Image]) -> PreparedImages:
        """CLIP's resize and centre crop on the CPU, as uint8 (``clip_pixels``: normalised on
        the device by the forward pass), pinned on CUDA; the processor's own float32
        preprocessing when its configuration is not one the recipe reproduces."""
        self.load()
        assert self._model is not None
        if not images:
            return PreparedImages({}, 0)
        if self._recipe is not None:
            import torch

            pixels = torch.from_numpy(self._recipe.batch(images))
            if self.device.startswith("cuda"):
                pixels = pixels.pin_memory()
            return PreparedImages({PIXELS: pixels}, len(images))
        rgb = [image if image.mode == "RGB" else image.convert("RGB") for image in images]
        features = dict(self._model.preprocess(rgb))
        if self.device.startswith("cuda"):
            features = {
                key: value.pin_memory() if hasattr(value, "pin_memory") else value
                for key, value in features.items()
            }
        return PreparedImages(features, len(rgb))

    def embed_prepared(self, prepared: PreparedImages) -> ImageVectors:
        """The forward pass, in sub-batches of at most ``batch_size`` (halved on CUDA OOM)."""
        self.load()
        if prepared.count == 0:
            return ImageVectors(semantic=empty_vectors(self.dim))
        semantic = _in_batches(
            prepared.count,
            self._batch_size,
            lambda start, stop: self._forward_images(prepared.slice(start, stop)),
        )
        return ImageVectors(semantic=semantic)

    def encode_images(self, images: Sequence[Image.Image]) -> ImageVectors:
        """``embed_prepared(prepare_images(...))`` over chunks of ``batch_size`` images."""
        if not images:
            return ImageVectors(semantic=empty_vectors(self.dim))
        parts = [
            self.embed_prepared(self.prepare_images(images[start : start + self._batch_size]))
            for start in range(0, len(images), self._batch_size)
        ]
        return ImageVectors(semantic=np.concatenate([part.semantic for part in parts]))

    def _forward_images(self, prepared: PreparedImages) -> Vectors:
        import torch
        from sentence_transformers.util import batch_to_device

        assert self._model is not None
        with torch.inference_mode():
            features = batch_to_device(dict(prepared.features), torch.device(self.device))
            pixels = features.pop(PIXELS, None)
            if pixels is not None:
                assert self._recipe is not None
                dtype = next(self._model.parameters()).dtype
                features = {"pixel_values": self._recipe.normalise(pixels, dtype), **IMAGE}
            embeddings: torch.Tensor = self._model(features)["sentence_embedding"]
            embeddings = torch.nn.functional.normalize(embeddings.float(), dim=-1)
            return np.ascontiguousarray(embeddings.cpu().numpy(), dtype=np.float32)


def _in_batches(total: int, batch_size: int, run: Callable[[int, int], Vectors]) -> Vectors:
    """``run(start, stop)`` over spans of at most ``batch_size``; CUDA OOM halves it, down to 1."""
    import torch

    parts: list[Vectors] = []
    start = 0
    while start < total:
        stop = min(start + batch_size, total)
        try:
            parts.append(run(start, stop))
        except torch.cuda.OutOfMemoryError:
            if batch_size == 1:
                raise
            torch.cuda.empty_cache()
            batch_size //= 2
            continue
        start = stop
    return np.concatenate(parts)


def _load_sentence_transformer(name: str, device: str) -> SentenceTransformer:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    looks_like_path = os.sep in name or name.startswith(".")
    if looks_like_path and not os.path.isdir(name):
        raise EncoderUnavailable(f"model folder {name} does not exist. {_OFFLINE_HINT}")
    try:
        model = SentenceTransformer(name, device=device, local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        # The loader's message can be a many-line traceback: it stays on the chained exception
        # (for the server log), the message people see is one sentence.
        raise EncoderUnavailable(
            f"cannot load model {name} offline: it is not in the local cache. {_OFFLINE_HINT}"
        ) from exc
    model.eval()
    if device.startswith("cuda"):
        model.half()
    return model


def _embedding_dim(model: SentenceTransformer, name: str) -> int:
    dim = model.get_embedding_dimension()
    if dim is None:
        raise EncoderUnavailable(f"model {name} does not declare its embedding dimension")
    return int(dim)


def _cap_text_length(model: SentenceTransformer) -> None:
    """Truncate texts at CLIP's position limit (tiny or old tokenizers may not know it)."""
    config = model.config
    text_config = getattr(config, "text_config", None)
    limit = getattr(text_config, "max_position_embeddings", None)
    current = model.max_seq_length
    if isinstance(limit, int) and (current is None or current > limit):
        model.max_seq_length = limit
