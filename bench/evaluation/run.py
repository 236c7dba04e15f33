"""``evaluate``: encode a labelled dataset with an encoder and measure retrieval quality.

What is measured (definitions in :mod:`bench.evaluation.metrics`):

- ``zero_shot``: each image is classified by its best-scoring label text (``top@1``, and
  ``top@5`` when there are more than 5 labels).
- ``text_to_image``: each label text queries the images (hit/recall/precision@1,5,10, mAP).
- ``image_to_image``: leave-one-out by label, on the ``semantic`` vectors and, when the encoder
  has them, on the ``visual`` vectors too.
- timings: weight loading, image encoding (images per second) and text encoding.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from loupe.bench.evaluation.datasets import EvalDataset, load_dataset
from loupe.bench.evaluation.metrics import image_to_image, text_to_image, zero_shot_accuracy
from loupe.search.encoders.base import Encoder, TextRole, Vectors


@dataclass(frozen=True, slots=True)
class EvalReport:
    """The outcome of one ``evaluate`` run; every metric is a fraction in [0, 1]."""

    dataset: str
    model_id: str
    images: int
    labels: int
    load_seconds: float
    image_seconds: float
    text_seconds: float
    zero_shot: dict[str, float]
    text_to_image: dict[str, float]
    image_to_image: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def images_per_second(self) -> float:
        return self.images / self.image_seconds if self.image_seconds > 0 else 0.0

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "images_per_second": self.images_per_second}

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def rows(self) -> list[tuple[str, str, float]]:
        """``(task, metric, value)`` rows for a table; query counts are left out."""
        sections: list[tuple[str, dict[str, float]]] = [
            ("zero-shot", self.zero_shot),
            ("text→image", self.text_to_image),
            *((f"image→image ({space})", m) for space, m in self.image_to_image.items()),
        ]
        rows = [
            (task, name, value)
            for task, metrics in sections
            for name, value in metrics.items()
            if name != "queries"
        ]
        rows.append(("speed", "images/s", self.images_per_second))
        return rows


def _encode_images(
    encoder: Encoder, dataset: EvalDataset, batch_size: int
) -> tuple[Vectors, Vectors | None]:
    semantic: list[Vectors] = []
    visual: list[Vectors] = []
    for start in range(0, len(dataset.images), batch_size):
        vectors = encoder.encode_images(dataset.images[start : start + batch_size])
        semantic.append(vectors.semantic)
        if vectors.visual is not None:
            visual.append(vectors.visual)
    if len(visual) not in (0, len(semantic)):
        raise ValueError("the encoder returned visual vectors for some batches only")
    return np.concatenate(semantic), (np.concatenate(visual) if visual else None)


def evaluate_dataset(
    encoder: Encoder, dataset: EvalDataset, *, name: str = "custom", batch_size: int = 64
) -> EvalReport:
    """Measure ``encoder`` on an already loaded dataset (see the module docstring)."""
    if not dataset.images:
        raise ValueError("the dataset has no images")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    started = time.perf_counter()
    encoder.load()
    loaded = time.perf_counter()
    semantic, visual = _encode_images(encoder, dataset, batch_size)
    encoded = time.perf_counter()
    label_names = list(dataset.label_texts)
    texts = encoder.encode_texts(list(dataset.label_texts.values()), role=TextRole.QUERY)
    done = time.perf_counter()
    if semantic.shape[0] != len(dataset.images) or texts.shape[0] != len(label_names):
        raise ValueError("the encoder returned a different number of vectors than inputs")

    spaces = {"semantic": semantic} | ({"visual": visual} if visual is not None else {})
    ks = (1, *(k for k in (5,) if k < len(label_names)))
    return EvalReport(
        dataset=name,
        model_id=encoder.model_id,
        images=len(dataset.images),
        labels=len(label_names),
        load_seconds=loaded - started,
        image_seconds=encoded - loaded,
        text_seconds=done - encoded,
        zero_shot=zero_shot_accuracy(semantic, dataset.labels, texts, label_names, ks=ks),
        text_to_image=text_to_image(texts, label_names, semantic, dataset.labels),
        image_to_image={
            space: image_to_image(vectors, dataset.labels) for space, vectors in spaces.items()
        },
    )


def evaluate(
    encoder: Encoder,
    dataset_name: str,
    *,
    limit: int | None = None,
    per_class: int | None = None,
    batch_size: int = 64,
    seed: int = 0,
) -> EvalReport:
    """Load ``dataset_name`` (a name ``loupe eval`` takes) and measure ``encoder`` on it.

    ``limit`` / ``per_class`` take a deterministic class-balanced slice (see
    :func:`bench.evaluation.datasets.select_indices`); ``batch_size`` images go to
    ``encoder.encode_images`` at a time.
    """
    dataset = load_dataset(dataset_name, limit=limit, per_class=per_class, seed=seed)
    return evaluate_dataset(encoder, dataset, name=dataset_name, batch_size=batch_size)
