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
from collections.abc import Callable, Iterator
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
# Rows the exact baseline converts to float32 at a time when it is kept in float16.
EXACT_CHUNK = 65_536
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
    """What was written: ids and vectors in insertion order (for the exact baseline), in
    float32 or, for a large collection, float16 (``exact_top`` reads either)."""

    ids: list[str]
    semantic: NDArray[np.floating[Any]]
    image_rows: NDArray[np.int64]  # rows of ``ids``/``semantic`` that are images
    visual: NDArray[np.floating[Any]]  # one row per image row
    upsert_s: float  # the upserts alone (the builds of ``every`` not included)
    tenants: int = 0  # row r belongs to tenant ``tenant_name(r % tenants)`` (0: no tenants)
    steps_s: float = 0.0  # the ``at_step`` calls (index builds between the upserts)


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

    lo = 0
    for n in _chunks(size, chunk):
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
        lo += n


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
    dtype: type[np.floating[Any]] = np.float32,
    every: int = 0,
    at_step: Callable[[], None] | None = None,
) -> Built:
    """Upsert ``size`` jittered points (``text_share`` of them texts) into ``collection``,
    spread over ``tenants`` tenants round-robin (0: no tenant field). With ``index`` None only
    the vectors are made (the same ones, for a kept collection that already holds them).
    ``dtype``: what the baseline's vectors are kept in (float16 halves it: 3 GB at 1M points).
    ``at_step`` is called after each ``every`` points upserted (before the last), e.g. to
    build the index as a growing library would; its time is ``steps_s``, not ``upsert_s``."""
    ids: list[str] = []
    images = sum(n - round(n * text_share) for n in _chunks(size, chunk))
    semantic = np.empty((size, corpus.image_semantic.shape[1]), dtype=dtype)
    visual = np.empty((images, corpus.image_visual.shape[1]), dtype=dtype)  # filled in place:
    image_rows = np.empty(images, dtype=np.int64)  # no second copy of a 3 GB baseline
    started = time.perf_counter()
    steps_s = 0.0
    next_step = every if every > 0 and at_step is not None and index is not None else size
    seen_images = 0
    batches = _batches(corpus, size, sigma, text_share, seed, chunk, tenants)
    for points, sem, vis, n_img in batches:
        if index is not None:
            index.upsert(collection, points)
        rows = slice(seen_images, seen_images + n_img)
        image_rows[rows] = np.arange(len(ids), len(ids) + n_img, dtype=np.int64)
        semantic[len(ids) : len(ids) + len(points)] = sem
        if vis is not None:
            visual[rows] = vis
        seen_images += n_img
        ids += [p.id for p in points]
        if next_step <= len(ids) < size and at_step is not None:
            step_started = time.perf_counter()
            at_step()
            steps_s += time.perf_counter() - step_started
            next_step += every
    return Built(
        ids=ids,
        semantic=semantic,
        image_rows=image_rows,
        visual=visual,
        upsert_s=time.perf_counter() - started - steps_s,
        tenants=tenants,
        steps_s=steps_s,
    )


def _chunks(size: int, chunk: int) -> Iterator[int]:
    """The points in each of ``_batches``'s chunks."""
    for lo in range(0, size, chunk):
        yield min(chunk, size - lo)


def exact_top(matrix: NDArray[np.floating[Any]], query: F32, k: int) -> NDArray[np.int64]:
    """Rows of the ``k`` best dot products, best first, in float32 (a float16 ``matrix`` is
    converted ``EXACT_CHUNK`` rows at a time)."""
    q = query.astype(np.float32, copy=False)
    if matrix.dtype == np.float32:
        scores = matrix @ q
    else:
        scores = np.empty(len(matrix), dtype=np.float32)
        for lo in range(0, len(matrix), EXACT_CHUNK):
            block = matrix[lo : lo + EXACT_CHUNK].astype(np.float32)
            np.matmul(block, q, out=scores[lo : lo + EXACT_CHUNK])
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top], kind="stable")]


def exact_tops(
    matrix: NDArray[np.floating[Any]], queries: NDArray[np.floating[Any]], k: int
) -> NDArray[np.int64]:
    """``exact_top`` of each row of ``queries`` (one row of ``k`` rows each), in one pass over
    ``matrix`` ``EXACT_CHUNK`` rows at a time: a float16 baseline of 1M points is converted
    once for all queries, not once per query (2-4 s a query for the 1,280-d ``visual``)."""
    q = np.asarray(queries, dtype=np.float32).T
    best_rows = np.empty((q.shape[1], 0), dtype=np.int64)
    best_scores = np.empty((q.shape[1], 0), dtype=np.float32)
    for lo in range(0, len(matrix), EXACT_CHUNK):
        scores = (matrix[lo : lo + EXACT_CHUNK].astype(np.float32, copy=False) @ q).T
        kk = min(k, scores.shape[1])
        part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        rows = np.concatenate([best_rows, part + lo], axis=1)
        values = np.concatenate([best_scores, np.take_along_axis(scores, part, 1)], axis=1)
        keep = np.argsort(-values, axis=1, kind="stable")[:, :k]
        best_rows = np.take_along_axis(rows, keep, 1)
        best_scores = np.take_along_axis(values, keep, 1)
    return best_rows
