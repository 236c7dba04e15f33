"""Realistic vectors at any scale: real embeddings of real photos (the samples and augmented crops
of them) and of real texts, each point a jittered copy ``normalise(v + sigma * n / sqrt(d))`` of a
real vector, so neighbourhoods look like a real collection's (clusters of near-duplicates, not
uniform noise).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loupe.bench.images import augment, sample_photos
from loupe.search.encoders import Encoder, TextRole, l2_normalise
from loupe.search.index import SEMANTIC, VISUAL, Point, VectorIndex
from loupe.search.index.base import CONCEPTS, SparseVector

F32 = NDArray[np.float32]
TEMPLATES = (
    "a photo of a {}",
    "a close-up of a {}",
    "a {} in the snow",
    "a blurry picture of a {}",
    "two {}s side by side",
    "a {} at night",
    "a drawing of a {}",
    "a {} on a wooden table",
)


def class_names() -> list[str]:
    text = (resources.files("loupe.search") / "data" / "imagenet_classes.json").read_text("utf-8")
    return [str(c["name"]) for c in json.loads(text)["classes"]]


def query_texts(count: int, *, seed: int) -> list[str]:
    """``count`` distinct natural query texts (class names in templates)."""
    rng = random.Random(seed)
    names = class_names()
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen[rng.choice(TEMPLATES).format(rng.choice(names))] = None
    return list(seen)


@dataclass(slots=True)
class Corpus:
    """Real base vectors: images (semantic + visual) and texts (semantic), with their texts."""

    image_semantic: F32
    image_visual: F32
    text_semantic: F32
    texts: list[str]
    embed_s: float
    image_concepts: list[dict[int, float]] | None = None  # per image row, when the encoder has


def embed_corpus(encoder: Encoder, *, crops: int = 12, texts: int = 300, seed: int = 0) -> Corpus:
    """Embed each sample photo and ``crops`` augmented crops of it, and ``texts`` passages."""
    rng = random.Random(seed)
    started = time.perf_counter()
    images = []
    for photo in sample_photos().values():
        images.append(photo)
        images += [augment(photo, rng, (448, 448)) for _ in range(crops)]
    vectors = encoder.encode_images(images)
    if vectors.visual is None:
        raise ValueError("the search benchmark needs an encoder with a visual vector")
    passages = query_texts(texts, seed=seed + 1)
    text_vectors = encoder.encode_texts(passages, role=TextRole.PASSAGE)
    return Corpus(
        vectors.semantic,
        vectors.visual,
        text_vectors,
        passages,
        time.perf_counter() - started,
        vectors.concepts,
    )


def jitter(base: F32, sigma: float, rng: np.random.Generator) -> F32:
    """Unit rows ``normalise(base + sigma * noise / sqrt(d))``; cosine to base 1/sqrt(1+sigma^2)."""
    noise = rng.standard_normal(base.shape, dtype=np.float32) * (sigma / np.sqrt(base.shape[1]))
    return l2_normalise(base + noise)


@dataclass(slots=True)
class Built:
    """What was written: ids and vectors in insertion order (for the exact baseline)."""

    ids: list[str]
    semantic: F32
    image_rows: NDArray[np.int64]  # rows of ``ids``/``semantic`` that are images
    visual: F32  # one row per image row
    upsert_s: float
    tenants: int = 0  # row r belongs to tenant ``tenant_name(r % tenants)`` (0: no tenants)


def tenant_name(number: int) -> str:
    return f"t{number}"


def _batches(
    corpus: Corpus,
    size: int,
    sigma: float,
    text_share: float,
    seed: int,
    chunk: int,
    tenants: int,
) -> Iterator[tuple[list[Point], F32, F32 | None, int]]:
    rng = np.random.default_rng(seed)

    def stamped(row: int, payload: dict[str, Any]) -> dict[str, Any]:
        return {**payload, "tenant": tenant_name(row % tenants)} if tenants else payload

    for lo in range(0, size, chunk):
        n = min(chunk, size - lo)
        n_text = round(n * text_share)
        n_img = n - n_text
        pick = rng.integers(0, len(corpus.image_semantic), n_img)
        sem_img = jitter(corpus.image_semantic[pick], sigma, rng)
        vis_img = jitter(corpus.image_visual[pick], sigma, rng)
        pick_t = rng.integers(0, len(corpus.texts), n_text)
        sem_txt = jitter(corpus.text_semantic[pick_t], sigma, rng)
        points = []
        for i in range(n_img):
            payload: dict[str, Any] = {
                "modality": "image",
                "filename": f"p{lo + i}.jpg",
                "mime": "image/jpeg",
                "width": 640,
                "height": 480,
                "tags": [],
                "metadata": {},
                "created_at": 1.7e9 + lo + i,
            }
            vectors = {SEMANTIC: sem_img[i], VISUAL: vis_img[i]}
            concepts = corpus.image_concepts
            sparse = {CONCEPTS: SparseVector.of(concepts[pick[i]])} if concepts else {}
            point_id = str(uuid.UUID(int=lo + i + 1))
            points.append(Point(point_id, vectors, stamped(lo + i, payload), sparse))
        for j in range(n_text):
            row = n_img + j
            text = corpus.texts[int(pick_t[j])]
            payload = {"modality": "text", "text": text, "tags": [], "metadata": {}}
            payload = stamped(lo + row, payload)
            points.append(Point(str(uuid.UUID(int=lo + row + 1)), {SEMANTIC: sem_txt[j]}, payload))
        yield points, np.concatenate([sem_img, sem_txt]), vis_img, n_img


def build(
    index: VectorIndex | None,
    collection: str,
    corpus: Corpus,
    *,
    size: int,
    sigma: float,
    text_share: float = 0.2,
    seed: int = 0,
    chunk: int = 1024,
    tenants: int = 0,
) -> Built:
    """Upsert ``size`` jittered points (``text_share`` of them texts) into ``collection``,
    spread over ``tenants`` tenants round-robin (0: no tenant field). With ``index`` None only
    the vectors are made (the same ones, for a kept collection that already holds them)."""
    ids: list[str] = []
    semantic: list[F32] = []
    visual: list[F32] = []
    image_rows: list[NDArray[np.int64]] = []
    started = time.perf_counter()
    batches = _batches(corpus, size, sigma, text_share, seed, chunk, tenants)
    for points, sem, vis, n_img in batches:
        if index is not None:
            index.upsert(collection, points)
        image_rows.append(np.arange(len(ids), len(ids) + n_img, dtype=np.int64))
        ids += [p.id for p in points]
        semantic.append(sem)
        if vis is not None:
            visual.append(vis)
    upsert_s = time.perf_counter() - started
    return Built(
        ids=ids,
        semantic=np.concatenate(semantic),
        image_rows=np.concatenate(image_rows),
        visual=np.concatenate(visual),
        upsert_s=upsert_s,
        tenants=tenants,
    )


def exact_top(matrix: F32, query: F32, k: int) -> NDArray[np.int64]:
    """Rows of the ``k`` best dot products, best first (float32 throughout)."""
    scores = matrix @ query.astype(np.float32, copy=False)
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top], kind="stable")]
